/* vs <guest> copy [user@]host:<new>: a stopped guest sent to another vs
 * host over ssh (util-vserver's vserver-copy between hosts).  This side
 * writes one pax stream, "root/..." then "config/..." (the guest's own
 * configuration but what makes it itself), with owners by number, modes,
 * nanosecond times, extended attributes, ACLs, file flags, hard links
 * and holes (rsync -aHAXS --numeric-ids); the other side's vs reads it as
 * `vs <new> build -m clone -- --archive -`, with the build options given
 * here (--context, --interface, --hostname, --rootdir). */
#define _GNU_SOURCE
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vs/plugin.h>

#include "../common/unpack.h"
#include "clone.h"

/* ---- sending ------------------------------------------------------------ */

/* One tree (a real path) under the archive name prefix. */
static int send_tree(struct vs_ctx *ctx, struct archive *out,
		     struct archive_entry_linkresolver *lr, const char *base,
		     const char *prefix, bool config)
{
	struct archive *disk = archive_read_disk_new();
	archive_read_disk_set_symlink_physical(disk);
	archive_read_disk_set_behavior(disk,
				       ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
	int r = 0;
	if (archive_read_disk_open(disk, base) != ARCHIVE_OK) {
		r = vs_set_error(ctx, "copy: cannot read '%s': %s", base,
				 archive_error_string(disk));
		goto out;
	}
	size_t blen = strlen(base);
	for (;;) {
		struct archive_entry *e = archive_entry_new();
		int h = archive_read_next_header2(disk, e);
		if (h == ARCHIVE_EOF) {
			archive_entry_free(e);
			break;
		}
		if (h < ARCHIVE_WARN) {
			r = vs_set_error(ctx, "copy: cannot read '%s': %s", base,
					 archive_error_string(disk));
			archive_entry_free(e);
			break;
		}
		const char *p = archive_entry_pathname(e);
		const char *rel = strlen(p) >= blen ? p + blen : "";
		if (config && clone_own_config(rel)) {
			archive_entry_free(e);
			continue; /* not descended into either */
		}
		archive_read_disk_descend(disk);
		char *name = vs_asprintf("%s%s", prefix, rel);
		archive_entry_set_pathname(e, name);
		free(name);
		/* a unification's shared file arrives as a private one */
		unsigned long set, clear;
		archive_entry_fflags(e, &set, &clear);
		if (archive_entry_filetype(e) == AE_IFREG &&
		    archive_entry_nlink(e) > 1 && (set & FS_IMMUTABLE_FL))
			archive_entry_set_fflags(e, set & ~FS_IMMUTABLE_FL,
						 clear);
		struct archive_entry *sparse = NULL;
		archive_entry_linkify(lr, &e, &sparse);
		if (e && archive_write_header(out, e) < ARCHIVE_WARN) {
			r = vs_set_error(ctx, "copy: cannot send '%s': %s",
					 archive_entry_pathname(e),
					 archive_error_string(out));
			archive_entry_free(e);
			break;
		}
		/* the data, holes included: the writer leaves them out */
		if (e && archive_entry_size(e) > 0) {
			const void *buf;
			size_t size;
			la_int64_t off, done = 0;
			int d;
			static const char zeros[65536];
			while ((d = archive_read_data_block(disk, &buf, &size,
							    &off)) == ARCHIVE_OK) {
				while (done < off && r == 0) {
					size_t n = off - done > (la_int64_t)sizeof(zeros)
							   ? sizeof(zeros)
							   : (size_t)(off - done);
					if (archive_write_data(out, zeros, n) < 0)
						r = -1;
					done += (la_int64_t)n;
				}
				if (r == 0 && archive_write_data(out, buf, size) < 0)
					r = -1;
				done += (la_int64_t)size;
				if (r < 0)
					break;
			}
			if (r == 0 && d != ARCHIVE_EOF)
				r = -1;
			if (r < 0)
				vs_set_error(ctx, "copy: cannot send '%s': %s",
					     archive_entry_pathname(e),
					     archive_error_string(d != ARCHIVE_EOF
									  ? disk
									  : out));
		}
		if (e)
			archive_entry_free(e);
		if (r < 0)
			break;
	}
out:
	archive_read_close(disk);
	archive_read_free(disk);
	return r;
}

static int send_guest(struct vs_ctx *ctx, struct vs_guest *g, int fd)
{
	char root[PATH_MAX], cfg[PATH_MAX];
	vs_host_real(ctx, vs_guest_root(g), root, sizeof(root));
	vs_host_real(ctx, vs_guest_cfgdir(g), cfg, sizeof(cfg));
	struct archive *out = archive_write_new();
	archive_write_set_format_pax(out);
	archive_write_set_bytes_in_last_block(out, 1);
	struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
	archive_entry_linkresolver_set_strategy(lr, archive_format(out));
	int r = 0;
	if (archive_write_open_fd(out, fd) != ARCHIVE_OK)
		r = vs_set_error(ctx, "copy: cannot write the stream: %s",
				 archive_error_string(out));
	if (r == 0)
		r = send_tree(ctx, out, lr, root, "root", false);
	if (r == 0)
		r = send_tree(ctx, out, lr, cfg, "config", true);
	if (archive_write_close(out) != ARCHIVE_OK && r == 0)
		r = vs_set_error(ctx, "copy: cannot finish the stream: %s",
				 archive_error_string(out));
	archive_write_free(out);
	archive_entry_linkresolver_free(lr);
	return r;
}

/* ---- the ssh command -------------------------------------------------- */

/* s quoted for a POSIX shell (the other host's, through ssh). */
static char *shell_quote(const char *s)
{
	size_t n = 2;
	for (const char *c = s; *c; c++)
		n += *c == '\'' ? 4 : 1;
	char *q = vs_xmalloc(n + 1), *o = q;
	*o++ = '\'';
	for (const char *c = s; *c; c++) {
		if (*c == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *c;
		}
	}
	*o++ = '\'';
	*o = '\0';
	return q;
}

/* Splits a command line on blanks (no quoting: an -e value). */
static int split_words(char *s, char **v, int max)
{
	int n = 0;
	char *save = NULL;
	for (char *w = strtok_r(s, " \t", &save); w && n < max;
	     w = strtok_r(NULL, " \t", &save))
		v[n++] = w;
	return n;
}

#define MAX_ARGS 128

int clone_copy_verb(struct vs_ctx *ctx, struct vs_guest *g, int argc,
		    char **argv)
{
	char *sshcmd = NULL, *remote_vs = NULL;
	const char *build[MAX_ARGS];
	int nb = 0;
	const char *dest = NULL;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool takes = !strcmp(o, "--context") || !strcmp(o, "--interface") ||
			     !strcmp(o, "--hostname") || !strcmp(o, "--rootdir");
		if (takes && i + 1 < argc && nb < MAX_ARGS - 2) {
			build[nb++] = o;
			build[nb++] = argv[++i];
		} else if (!strcmp(o, "-e") && i + 1 < argc) {
			free(sshcmd);
			sshcmd = vs_strdup(argv[++i]);
		} else if (!strcmp(o, "--remote-vs") && i + 1 < argc) {
			free(remote_vs);
			remote_vs = vs_strdup(argv[++i]);
		} else if (o[0] != '-' && !dest) {
			dest = o;
		} else {
			free(sshcmd);
			free(remote_vs);
			return vs_set_error(ctx, "copy: unknown or incomplete "
						 "option '%s'",
					    o),
			       2;
		}
	}
	const char *colon = dest ? strrchr(dest, ':') : NULL;
	int r = 0;
	if (!dest || !colon || colon == dest || !colon[1]) {
		vs_set_error(ctx, "copy: usage: vs <guest> copy [user@]host:<new> "
				  "[--context N] [--interface ...] [--hostname "
				  "H] [--rootdir D] [-e <ssh command>] "
				  "[--remote-vs <vs command>]");
		r = 2;
	} else if (vs_guest_running(g)) {
		vs_set_error(ctx, "copy: guest '%s' is running: stop it first",
			     vs_guest_name(g));
		r = 1;
	}
	if (r) {
		free(sshcmd);
		free(remote_vs);
		return r;
	}
	char *host = vs_asprintf("%.*s", (int)(colon - dest), dest);
	const char *newname = colon + 1;

	/* the other side: <vs> <new> build <options> -m clone -- --archive - */
	char *remote = NULL;
	size_t rl = 0;
	char *rvs = vs_strdup(remote_vs ? remote_vs : "vs");
	char *words[MAX_ARGS];
	int nw = split_words(rvs, words, MAX_ARGS - 16 - nb);
	const char *tail[] = {"-m", "clone", "--", "--archive", "-"};
	const char *all[MAX_ARGS * 2];
	int na = 0;
	for (int i = 0; i < nw; i++)
		all[na++] = words[i];
	all[na++] = newname;
	all[na++] = "build";
	for (int i = 0; i < nb; i++)
		all[na++] = build[i];
	for (size_t i = 0; i < sizeof(tail) / sizeof(*tail); i++)
		all[na++] = tail[i];
	for (int i = 0; i < na; i++) {
		/* the vs command's own words as given; every argument quoted */
		char *q = i < nw ? vs_strdup(all[i]) : shell_quote(all[i]);
		remote = vs_xrealloc(remote, rl + strlen(q) + 2);
		rl += (size_t)sprintf(remote + rl, "%s%s", rl ? " " : "", q);
		free(q);
	}
	char *ssh = vs_strdup(sshcmd ? sshcmd : "ssh");
	char *sv[MAX_ARGS];
	int ns = split_words(ssh, sv, MAX_ARGS - 4);
	sv[ns++] = host;
	sv[ns++] = remote;
	sv[ns] = NULL;

	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = vs_set_errno(ctx, errno, "copy: cannot make a pipe");
		goto out;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[0], 0);
		execvp(sv[0], sv);
		fprintf(stderr, "vs: copy: cannot run '%s': %s\n", sv[0],
			strerror(errno));
		_exit(127);
	}
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		r = vs_set_errno(ctx, errno, "copy: cannot run '%s'", sv[0]);
		goto out;
	}
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	sigaction(SIGPIPE, &ign, &old);
	int sent = send_guest(ctx, g, p[1]);
	close(p[1]);
	sigaction(SIGPIPE, &old, NULL);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		r = vs_set_error(ctx, "copy: the other host did not take guest "
				      "'%s' as '%s' (%s %d: its message is "
				      "above)",
				 vs_guest_name(g), newname,
				 WIFEXITED(st) ? "status" : "signal",
				 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	else if (sent < 0)
		r = -1;
	else
		printf("copy: guest '%s' copied to %s as '%s'\n",
		       vs_guest_name(g), host, newname);
out:
	free(ssh);
	free(rvs);
	free(remote);
	free(host);
	free(sshcmd);
	free(remote_vs);
	return r < 0 ? 1 : r;
}

/* ---- receiving (the clone method's --archive -) ------------------------ */

/* name under prefix ("root", "config"): its path below it ("." for the
 * top), or NULL when it is not there. */
static const char *below(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);
	if (strncmp(name, prefix, n))
		return NULL;
	if (!name[n] || !strcmp(name + n, "/"))
		return ".";
	return name[n] == '/' ? name + n + 1 : NULL;
}

int clone_receive(struct vs_ctx *ctx, int fd, int rootfd, int cfgfd)
{
	struct archive *in = archive_read_new();
	archive_read_support_format_tar(in);
	struct archive *out = NULL;
	int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	int phase = 0; /* 1 root, 2 config */
	/* the times of a tree's top, set once its writer is closed (the
	 * writer leaves "." out of its deferred directory times) */
	struct timespec top[2];
	bool have_top = false;
	if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK) {
		r = vs_set_error(ctx, "clone: cannot read the stream: %s",
				 archive_error_string(in));
		goto out;
	}
	struct archive_entry *e;
	int h;
	while ((h = archive_read_next_header(in, &e)) == ARCHIVE_OK ||
	       h == ARCHIVE_WARN) {
		/* its name as sent (the entry's own changes below) */
		char name[PATH_MAX];
		snprintf(name, sizeof(name), "%s",
			 archive_entry_pathname(e) ? archive_entry_pathname(e)
						   : "");
		const char *rest;
		int want;
		if ((rest = below(name, "root")))
			want = 1;
		else if ((rest = below(name, "config")))
			want = 2;
		else {
			r = vs_set_error(ctx, "clone: '%s' in the stream is "
					      "neither root/ nor config/",
					 name);
			break;
		}
		if (want < phase) {
			r = vs_set_error(ctx, "clone: '%s' after config/ in the "
					      "stream",
					 name);
			break;
		}
		if (want != phase) { /* the directory times of the last tree */
			if (out && archive_write_close(out) != ARCHIVE_OK) {
				r = vs_set_error(ctx, "clone: %s",
						 archive_error_string(out));
				break;
			}
			if (have_top && futimens(phase == 1 ? rootfd : cfgfd,
						 top) < 0) {
				r = vs_set_errno(ctx, errno, "clone: cannot set "
							     "the times of the "
							     "new root");
				break;
			}
			have_top = false;
			if (out)
				archive_write_free(out);
			out = unpack_disk_writer(ARCHIVE_EXTRACT_SPARSE);
			phase = want;
			if (fchdir(phase == 1 ? rootfd : cfgfd) < 0) {
				r = vs_set_errno(ctx, errno, "clone: cannot "
							     "enter the new "
							     "guest");
				break;
			}
		}
		char *rel = vs_asprintf("/%s", rest);
		bool skip = phase == 2 && clone_own_config(rel);
		free(rel);
		if (skip) {
			archive_read_data_skip(in);
			continue;
		}
		if (!strcmp(rest, ".")) {
			top[0].tv_sec = archive_entry_atime(e);
			top[0].tv_nsec = archive_entry_atime_nsec(e);
			top[1].tv_sec = archive_entry_mtime(e);
			top[1].tv_nsec = archive_entry_mtime_nsec(e);
			have_top = archive_entry_mtime_is_set(e);
			if (!archive_entry_atime_is_set(e))
				top[0] = top[1];
		}
		char *nn = vs_strdup(rest);
		archive_entry_set_pathname(e, nn);
		free(nn);
		const char *hl = archive_entry_hardlink(e);
		if (hl) {
			const char *hr = below(hl, phase == 1 ? "root" : "config");
			if (!hr) {
				r = vs_set_error(ctx, "clone: '%s' links out of "
						      "its tree",
						 name);
				break;
			}
			char *hn = vs_strdup(hr);
			archive_entry_set_hardlink(e, hn);
			free(hn);
		}
		if (archive_write_header(out, e) < ARCHIVE_WARN ||
		    unpack_entry_data(in, out) < 0) {
			r = vs_set_error(ctx, "clone: cannot make '%s': %s", name,
					 archive_error_string(out)
						 ? archive_error_string(out)
						 : archive_error_string(in));
			break;
		}
	}
	if (r == 0 && h != ARCHIVE_EOF)
		r = vs_set_error(ctx, "clone: the stream is damaged: %s",
				 archive_error_string(in));
	if (r == 0 && !phase)
		r = vs_set_error(ctx, "clone: the stream is empty");
	if (out && archive_write_close(out) != ARCHIVE_OK && r == 0)
		r = vs_set_error(ctx, "clone: %s", archive_error_string(out));
	if (r == 0 && have_top && futimens(phase == 1 ? rootfd : cfgfd, top) < 0)
		r = vs_set_errno(ctx, errno, "clone: cannot set the times of the "
					     "new configuration");
out:
	if (out)
		archive_write_free(out);
	archive_read_free(in);
	if (back >= 0) {
		if (fchdir(back) < 0 && r == 0)
			r = vs_set_errno(ctx, errno, "clone: cannot go back");
		close(back);
	}
	return r;
}
