/*
 * Unit test for what the spawner relies on: after worker_preload(), the
 * library set-up the spawner does once, every process forked from it
 * (twice, as the spawner forks a worker) draws its own random bytes.
 * If OpenSSL stopped reseeding after fork, every worker would share
 * its key exchange secrets with its siblings.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <atf-c.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "worker.h"

#define T_NCHILD	4
#define T_NBYTES	32

/* Fork twice, as the spawner does; the grandchild writes its bytes. */
static void
t_draw_in_grandchild(int fd)
{
	unsigned char	 buf[T_NBYTES];
	pid_t		 mid, pid;
	int		 status;

	ATF_REQUIRE((mid = fork()) != -1);
	if (mid == 0) {
		if ((pid = fork()) == -1)
			_exit(1);
		if (pid == 0) {
			if (RAND_bytes(buf, sizeof(buf)) != 1 ||
			    write(fd, buf, sizeof(buf)) != sizeof(buf))
				_exit(1);
			_exit(0);
		}
		_exit(0);
	}
	ATF_REQUIRE(waitpid(mid, &status, 0) == mid);
	ATF_REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

ATF_TC_WITHOUT_HEAD(random_per_worker);
ATF_TC_BODY(random_per_worker, tc)
{
	unsigned char	 got[T_NCHILD + 1][T_NBYTES];
	int		 p[2], i, j;

	worker_preload();
	ATF_REQUIRE(RAND_bytes(got[T_NCHILD], T_NBYTES) == 1);
	ATF_REQUIRE(pipe(p) == 0);
	for (i = 0; i < T_NCHILD; i++) {
		t_draw_in_grandchild(p[1]);
		/* The grandchild is not ours to wait for: read its bytes. */
		ATF_REQUIRE(read(p[0], got[i], T_NBYTES) == T_NBYTES);
	}
	close(p[0]);
	close(p[1]);
	for (i = 0; i <= T_NCHILD; i++)
		for (j = i + 1; j <= T_NCHILD; j++)
			ATF_CHECK_MSG(memcmp(got[i], got[j], T_NBYTES) != 0,
			    "draws %d and %d are the same", i, j);
}

ATF_TP_ADD_TCS(tp)
{
	ATF_TP_ADD_TC(tp, random_per_worker);
	return atf_no_error();
}
