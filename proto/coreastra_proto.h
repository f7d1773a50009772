/*
 * The coreastrad message protocol: every message type and wire struct
 * exchanged between the parent, the front, the workers and coreastractl.
 *
 * Structs are fixed-layout with bounded, NUL-terminated char arrays.  A
 * receiver checks the payload size exactly against the struct for the
 * type and every string for a NUL within its bounds.
 */
#ifndef PROTO_COREASTRA_PROTO_H
#define PROTO_COREASTRA_PROTO_H

#include <stdint.h>

#define COREASTRA_VERSION	"0.1.0"
#define COREASTRA_PROTO_VERSION	2

#define P_ID_LEN	37	/* UUID text and NUL */
#define P_HOST_LEN	256
#define P_USER_LEN	256
#define P_NAME_LEN	128
#define P_PASS_LEN	1024
#define P_KEY_LEN	16384
#define P_PATH_LEN	4096
#define P_FILE_LEN	1024
#define P_CMD_LEN	16384
#define P_CODE_LEN	32
#define P_MSG_LEN	512
#define P_ORIGIN_LEN	256
#define P_ORIGINS	16
#define P_LOG_LEN	1024
#define P_HKTYPE_LEN	32
#define P_HKFP_LEN	64

enum imsg_type {
	IMSG_NONE = 0,

	/* any child -> parent */
	IMSG_LOG,			/* struct msg_log */

	/* parent -> any child, first message: how to sandbox */
	IMSG_SANDBOX,			/* struct msg_sandbox */
	/* parent -> any child: debug logging on (1) or off (0) */
	IMSG_LOG_VERBOSE,		/* struct msg_count */

	/* parent -> front */
	IMSG_FRONT_CONFIG,		/* struct msg_front_config */
	IMSG_FRONT_LISTEN,		/* fd: a listening socket */
	IMSG_FRONT_READY,		/* no payload: start serving */

	/* front -> parent requests, replies matched by reqid */
	IMSG_REQ_HEALTH,		/* struct msg_req */
	IMSG_REQ_SSH_OPEN,		/* struct msg_ssh_open */
	IMSG_REQ_FTP_OPEN,		/* struct msg_ftp_open */
	IMSG_REQ_LIST,			/* struct msg_req */
	IMSG_REQ_GET,			/* struct msg_req_id */
	IMSG_REQ_CLOSE,			/* struct msg_req_id */
	IMSG_REQ_CLEANUP,		/* struct msg_req */
	IMSG_REQ_OP,			/* struct msg_op */

	/* parent -> front replies */
	IMSG_REP_HEALTH,		/* struct msg_health */
	IMSG_REP_SESSION,		/* struct msg_session */
	IMSG_REP_LIST_END,		/* struct msg_count */
	IMSG_REP_COUNT,			/* struct msg_count */
	IMSG_REP_OP_START,		/* struct msg_req, fd: data channel */
	IMSG_REP_ERROR,			/* struct msg_error */

	/* parent <-> worker */
	IMSG_W_START,			/* struct msg_w_start */
	IMSG_W_HOSTKEY,			/* struct msg_w_hostkey */
	IMSG_W_AUTH,			/* struct msg_w_auth */
	IMSG_W_READY,			/* no payload */
	IMSG_W_FAILED,			/* struct msg_error */
	IMSG_W_OP,			/* struct msg_op, fd: data channel */
	IMSG_W_OP_DONE,			/* struct msg_w_done */
	IMSG_W_CLOSE,			/* no payload */

	/* coreastractl <-> parent */
	IMSG_CTL_HELLO,			/* struct msg_ctl_hello */
	IMSG_CTL_SHOW_SESSIONS,		/* struct msg_ctl_id, "" = all */
	IMSG_CTL_SHOW_STATS,		/* no payload */
	IMSG_CTL_KILL,			/* struct msg_ctl_id, "all" = all */
	IMSG_CTL_CLEANUP,		/* no payload */
	IMSG_CTL_RELOAD,		/* no payload */
	IMSG_CTL_LOG_VERBOSE,		/* struct msg_count: level */
	IMSG_CTL_SESSION,		/* struct msg_session */
	IMSG_CTL_STATS,			/* struct msg_stats */
	IMSG_CTL_RESULT,		/* struct msg_error, status 0 = ok */
	IMSG_CTL_END,			/* no payload */

	/*
	 * parent -> spawner: descriptors for the next worker, one a
	 * message (its channel to the parent, the remote socket, the CA
	 * bundle), then the request; spawner -> parent: the answer.
	 */
	IMSG_SPAWN_FD,			/* fd, no payload */
	IMSG_SPAWN,			/* struct msg_spawn */
	IMSG_SPAWNED,			/* struct msg_spawned */

	IMSG_TYPE_MAX
};

enum sess_type {
	SESS_SSH = 1,
	SESS_FTP
};

enum sess_state {
	SESS_CONNECTING = 1,
	SESS_READY,
	SESS_BUSY,
	SESS_DEAD
};

enum op_kind {
	OP_LIST = 1,
	OP_DOWNLOAD,
	OP_UPLOAD,
	OP_EXEC
};

enum ftp_tls {
	FTP_TLS_NONE = 0,
	FTP_TLS_EXPLICIT,
	FTP_TLS_IMPLICIT
};

struct msg_log {
	int32_t		pri;
	char		line[P_LOG_LEN];
};

struct msg_sandbox {
	char		user[64];
	char		chroot[P_PATH_LEN];
	uint16_t	ports[4];	/* FTP: ports it may connect to */
	uint32_t	nports;
};

struct msg_spawn {
	uint32_t	type;		/* enum sess_type */
	uint32_t	nfds;		/* IMSG_SPAWN_FD messages before */
};

struct msg_spawned {
	int32_t		pid;		/* the worker, -1 if none */
	int32_t		error;		/* errno when pid is -1 */
};

struct msg_front_config {
	uint32_t	max_clients;
	uint32_t	max_body;
	uint32_t	header_timeout;
	uint32_t	keepalive_timeout;
	uint32_t	command_timeout;
	uint32_t	norigins;
	uint64_t	max_file_size;
	char		origins[P_ORIGINS][P_ORIGIN_LEN];
};

struct msg_req {
	uint32_t	reqid;
};

struct msg_req_id {
	uint32_t	reqid;
	char		id[P_ID_LEN];
};

struct msg_count {
	uint32_t	reqid;
	uint32_t	count;
};

struct msg_error {
	uint32_t	reqid;
	int32_t		status;		/* HTTP status */
	char		code[P_CODE_LEN];
	char		message[P_MSG_LEN];
};

struct msg_health {
	uint32_t	reqid;
	uint32_t	sessions;
	uint32_t	max_sessions;
	uint64_t	uptime;
};

struct msg_ssh_open {
	uint32_t	reqid;
	uint32_t	port;
	uint32_t	timeout;	/* seconds, 0 = configured */
	char		host[P_HOST_LEN];
	char		username[P_USER_LEN];
	char		name[P_NAME_LEN];
	char		password[P_PASS_LEN];
	char		private_key[P_KEY_LEN];
	char		passphrase[P_PASS_LEN];
};

struct msg_ftp_open {
	uint32_t	reqid;
	uint32_t	port;
	uint32_t	timeout;
	uint32_t	tls;		/* enum ftp_tls */
	uint32_t	passive;
	uint32_t	insecure;
	char		host[P_HOST_LEN];
	char		username[P_USER_LEN];
	char		name[P_NAME_LEN];
	char		password[P_PASS_LEN];
};

/* One session as the parent describes it. */
struct msg_session {
	uint32_t	reqid;
	uint32_t	type;		/* enum sess_type */
	uint32_t	state;		/* enum sess_state */
	uint32_t	port;
	char		id[P_ID_LEN];
	char		host[P_HOST_LEN];
	char		username[P_USER_LEN];
	char		name[P_NAME_LEN];
	char		hostkey_type[P_HKTYPE_LEN];
	char		hostkey_sha256[P_HKFP_LEN];
	int64_t		created;
	int64_t		last_activity;
	int64_t		expires;
	int64_t		remaining;
	int32_t		pid;
	uint32_t	op;		/* enum op_kind running, 0 = none */
	uint32_t	queued;
	uint32_t	tls;
	uint64_t	ops;
	uint64_t	bytes_in;
	uint64_t	bytes_out;
};

/* An operation on a session (front -> parent, parent -> worker). */
struct msg_op {
	uint32_t	reqid;		/* front's id; op id to a worker */
	uint32_t	op;		/* enum op_kind */
	uint32_t	timeout;	/* execute, seconds */
	uint64_t	max_output;	/* execute capture per stream */
	uint64_t	max_size;	/* upload limit, 0 = none */
	char		id[P_ID_LEN];
	char		path[P_PATH_LEN];
	char		filename[P_FILE_LEN];	/* upload: client's name */
	char		command[P_CMD_LEN];
};

struct msg_w_start {
	uint32_t	type;		/* enum sess_type */
	uint32_t	port;
	uint32_t	timeout;	/* connect + auth, seconds */
	uint32_t	keepalive;	/* seconds */
	uint32_t	tls;		/* FTP */
	uint32_t	passive;
	uint32_t	insecure;
	char		id[P_ID_LEN];
	char		host[P_HOST_LEN];	/* as the client named it */
	char		addr[64];		/* numeric, as connected */
};

struct msg_w_hostkey {
	char		type[P_HKTYPE_LEN];
	char		sha256[P_HKFP_LEN];	/* base64, no padding */
};

struct msg_w_auth {
	char		username[P_USER_LEN];
	char		password[P_PASS_LEN];
	char		private_key[P_KEY_LEN];
	char		passphrase[P_PASS_LEN];
};

struct msg_w_done {
	uint32_t	opid;
	int32_t		status;
	uint32_t	session_lost;
	uint64_t	bytes_in;	/* from the remote */
	uint64_t	bytes_out;	/* to the remote */
};

struct msg_ctl_hello {
	uint32_t	version;
};

struct msg_ctl_id {
	char		id[P_ID_LEN];
};

struct msg_stats {
	int64_t		uptime;
	uint32_t	sessions_open;
	uint32_t	max_sessions;
	uint64_t	sessions_total;
	uint64_t	sessions_failed;
	uint64_t	sessions_ssh;
	uint64_t	sessions_ftp;
	uint64_t	ops[5];		/* by enum op_kind */
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	deaths_exit;
	uint64_t	deaths_signal;
	uint64_t	deaths_sandbox;
	uint64_t	front_restarts;
	uint64_t	spawner_deaths;	/* replaced when next needed */
};

#endif
