/* The commands of agah, as main.c's command table runs them: each takes
 * the parsed command line and returns the process exit code. One file per
 * group: identity.c, passphrase.c, community.c (offline, on the data
 * directory); post.c, check.c, alerts.c, members.c, node.c (through agahd). */
#ifndef AGAH_COMMANDS_H
#define AGAH_COMMANDS_H

#include <stdio.h>
#include "cli.h"

/* identity.c */
int cmd_init(struct cli *c);
int cmd_id(struct cli *c);
/* passphrase.c */
int cmd_passphrase(struct cli *c);
/* community.c */
int cmd_community_create(struct cli *c);
int cmd_join(struct cli *c);
/* post.c */
int cmd_post(struct cli *c); /* post number|account|alert: c->cmd says which */
/* check.c */
int cmd_check(struct cli *c);
/* alerts.c */
int cmd_list(struct cli *c);
int cmd_show(struct cli *c);
int cmd_confirm(struct cli *c);
int cmd_retract(struct cli *c);
int cmd_watch(struct cli *c);
/* members.c */
int cmd_invite(struct cli *c);
int cmd_revoke(struct cli *c);
int cmd_members(struct cli *c);
/* node.c */
int cmd_status(struct cli *c);
int cmd_peers(struct cli *c);
int cmd_peer_add(struct cli *c);

/* help.c: prints the help of a command ("post number", "check", ...) or
 * the general help when cmd is NULL. Returns 0, or -1 when there is no such
 * command. */
int help_print(FILE *f, const char *cmd);
void help_usage(FILE *f);

#endif
