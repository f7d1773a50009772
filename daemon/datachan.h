/*
 * Data channels: the socketpair the parent creates for each operation,
 * one end for the front and one for the worker.  Results and file bytes
 * travel on it as records (a small header and a payload) so that they
 * never pass through the parent.
 *
 * worker -> front: FILEINFO (download), DATA, STDERR, ENTRY..., RESULT
 * front -> worker: DATA..., END (upload; EOF without END = aborted)
 * RESULT is always the last record the worker writes.
 */
#ifndef DAEMON_DATACHAN_H
#define DAEMON_DATACHAN_H

#include <stddef.h>
#include <stdint.h>

#define DC_MAX_RECORD		(256 * 1024)
#define DC_PATH_MAX		4096
#define DC_NAME_MAX		1024
#define DC_CODE_MAX		32
#define DC_MSG_MAX		512

enum dc_kind {
	DC_DATA = 1,		/* file bytes or execute stdout */
	DC_STDERR,		/* execute stderr */
	DC_ENTRY,		/* struct dc_entry, name, link target */
	DC_FILEINFO,		/* struct dc_fileinfo, before DATA */
	DC_END,			/* upload body complete (front -> worker) */
	DC_RESULT		/* struct dc_result, last record */
};

struct dc_hdr {
	uint32_t	kind;
	uint32_t	len;		/* payload bytes, <= DC_MAX_RECORD */
};

enum dc_type {
	DC_T_FILE = 0,
	DC_T_DIR,
	DC_T_LINK,
	DC_T_OTHER
};

/* One directory entry; followed by namelen + targetlen bytes. */
struct dc_entry {
	uint64_t	e_size;
	int64_t		e_mtime;	/* seconds since the epoch, 0 unknown */
	uint32_t	e_mode;		/* st_mode style: type, permissions */
	uint32_t	e_uid;
	uint32_t	e_gid;
	uint32_t	e_type;		/* enum dc_type */
	uint32_t	e_namelen;
	uint32_t	e_targetlen;	/* 0 when not a link or unknown */
	uint32_t	e_flags;
#define DC_E_HASID	0x1		/* e_uid/e_gid are valid */
	char		e_owner[64];	/* FTP: owner and group names */
	char		e_group[64];
};

struct dc_fileinfo {
	uint64_t	f_size;
	uint32_t	f_flags;
#define DC_F_SIZEKNOWN	0x1
	char		f_name[DC_NAME_MAX];	/* base name for the client */
};

struct dc_result {
	int32_t		r_status;	/* HTTP status: 200, 201, 404 ... */
	char		r_code[DC_CODE_MAX];	/* "" on success */
	char		r_message[DC_MSG_MAX];
	char		r_path[DC_PATH_MAX];	/* absolute path acted on */
	uint64_t	r_size;		/* bytes transferred */
	int32_t		r_exit_code;	/* execute; -1 when none */
	char		r_exit_signal[32];
	uint32_t	r_truncated;	/* execute: bit 0 stdout, 1 stderr */
	uint64_t	r_duration_ms;
	uint32_t	r_session_lost;	/* the remote connection is gone */
};

/* Blocking record I/O, used by workers. */
int	dc_write(int, uint32_t, const void *, size_t);
int	dc_write2(int, uint32_t, const void *, size_t, const void *, size_t);
int	dc_read_hdr(int, struct dc_hdr *);
void	dc_result_set(struct dc_result *, int, const char *, const char *,
	    ...) __attribute__((__format__ (printf, 4, 5)));

#endif
