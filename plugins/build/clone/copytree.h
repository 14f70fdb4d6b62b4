/* The clone method's tree copy (copytree.c). */
#ifndef VS_CLONE_COPYTREE_H
#define VS_CLONE_COPYTREE_H

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <vs/core.h>

struct vs_copy_link { /* a file with more than one name, copied once */
	ino_t ino;
	char *rel; /* its first name in the copy ("/etc/x"), or NULL */
	nlink_t nlink, seen; /* its names: in all, and met in the tree */
	bool immutable;	     /* copied, and immutable in the source */
};

struct vs_copy {
	struct vs_ctx *ctx;
	/* true: leave rel ("/etc/x") out (it may keep private data) */
	bool (*skip)(struct vs_copy *c, const char *rel, const struct stat *st);
	bool replace; /* an existing file of the copy's is replaced */
	bool plain;   /* copy_file_range cannot: read and write */
	/* counts */
	unsigned long long reflinked, copied, shared;
	/* inside */
	dev_t dev;
	int dstroot;
	struct vs_copy_link *links; /* open addressing by inode */
	size_t nlinks, cap;
	char **shared_names; /* names given to shared inodes (for undo) */
	size_t nshared;
};

/* A DIR stream of the directory open at fd (a duplicate: fd stays the
 * caller's), or NULL with errno. */
DIR *clone_opendir(int fd);
/* Copies everything below the directory sfd into the directory dfd, and
 * sfd's own attributes onto dfd; one file system, no symlink followed.
 * 0, or -1 with the error set ("clone: cannot copy '/x': ..."). */
int vs_copy_tree(struct vs_copy *c, int sfd, int dfd);
/* Takes the names a failed copy gave to shared inodes away again (under
 * a lease, their flag back on after each). */
void vs_copy_undo_shared(struct vs_copy *c);
void vs_copy_free(struct vs_copy *c);

#endif
