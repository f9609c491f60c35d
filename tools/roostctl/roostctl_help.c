/* roostctl_help.c: the usage texts, one per command, printed by "help",
 * "--help" and "COMMAND --help". Keep them in step with the option
 * tables in roostctl_cmd_*.c. */
#include <stdio.h>
#include <string.h>

#include "tools/roostctl/roostctl_int.h"

static const char roostctl_help_main[] =
"usage: roostctl [--node HOST:PORT] [--token-file FILE] COMMAND ...\n"
"\n"
"Administers a Roost node, and the cluster it belongs to, through its\n"
"admin API (any node acts for the whole cluster).\n"
"\n"
"commands:\n"
"  domain add|del|list                 mail domains\n"
"  user add|del|list|show|passwd|import\n"
"                                      accounts, passwords and quotas\n"
"  alias add|del|list                  aliases and catch-all addresses\n"
"  group add|del|list|members          distribution groups\n"
"  status                              the node's and the cluster's state\n"
"  cluster init|wait                   create a cluster in etcd; wait for it\n"
"  node add|list                       cluster members\n"
"  help [COMMAND]                      this text, or a command's\n"
"\n"
"options:\n"
"  --node HOST:PORT    the node's admin API; else $ROOST_NODE, else\n"
"                      " ROOSTCTL_DEFAULT_NODE "\n"
"  --token-file FILE   the admin token; else $ROOST_TOKEN_FILE, else\n"
"                      " ROOSTCTL_DEFAULT_TOKEN_CLUSTER " or\n"
"                      " ROOSTCTL_DEFAULT_TOKEN_LOCAL " if it exists,\n"
"                      else " ROOSTCTL_DEFAULT_TOKEN "\n"
"  --help, --version\n"
"\n"
"Run 'roostctl COMMAND --help' for a command's options. Exit status: 0 done,\n"
"1 the node or the network failed, 2 the command line is wrong.\n";

static const char roostctl_help_domain[] =
"usage: roostctl domain add DOMAIN\n"
"       roostctl domain del DOMAIN\n"
"       roostctl domain list [--json]\n"
"\n"
"A domain must exist before its users, aliases and groups; it can be\n"
"deleted only when nothing uses it.\n"
"\n"
"  --json   print the node's JSON instead of a table\n";

static const char roostctl_help_user[] =
"usage: roostctl user add ADDR [--password-stdin] [--name NAME] "
"[--quota SIZE]\n"
"       roostctl user del ADDR\n"
"       roostctl user list [--domain DOMAIN] [--json]\n"
"       roostctl user show ADDR [--json]\n"
"       roostctl user passwd ADDR [--password-stdin]\n"
"       roostctl user import FILE [--create-domains] [--default-quota SIZE]\n"
"\n"
"  --password-stdin  read the password from the first line of stdin.\n"
"                    Without it roostctl asks twice on a terminal; when\n"
"                    stdin is no terminal, 'user add' creates the user\n"
"                    without a password (no login until 'user passwd').\n"
"  --name NAME       the display name\n"
"  --quota SIZE      mailbox quota: bytes, or a number with K, M or G\n"
"                    (500M, 2G); 0 means unlimited\n"
"  --domain DOMAIN   list only this domain's users\n"
"  --json            print the node's JSON instead of a table\n"
"  --create-domains  import: create the domains that do not exist yet\n"
"                    (else their users are skipped)\n"
"  --default-quota SIZE  import: the quota of users whose line sets none\n"
"\n"
"'user del' deletes the mailbox and all its mail.\n"
"\n"
"'user import' reads a Dovecot passwd-file (FILE, or - for stdin):\n"
"  user@domain:{SCHEME}hash:uid:gid:gecos:home:shell:extra_fields\n"
"with the password hashes as they are ({SHA512-CRYPT}, {BLF-CRYPT},\n"
"{ARGON2ID}, {SSHA512}, {SHA256}, {PLAIN}… or a bare $6$/$2y$/$argon2id$\n"
"string); each user's first login turns its hash into scrypt. The gecos\n"
"becomes the display name; userdb_quota_rule=*:storage=SIZE the quota.\n"
"'#' lines and blank lines are skipped. Addresses that exist are skipped,\n"
"never overwritten. Prints each skipped line with its reason, then\n"
"'imported N users, skipped M'; exit 1 if any was skipped.\n";

static const char roostctl_help_alias[] =
"usage: roostctl alias add ADDR TARGET...\n"
"       roostctl alias del ADDR\n"
"       roostctl alias list [--json]\n"
"\n"
"Mail to ADDR goes to every TARGET. ADDR '@DOMAIN' is the domain's\n"
"catch-all: it takes mail for addresses of DOMAIN that exist nowhere else.\n"
"\n"
"  --json   print the node's JSON instead of a table\n";

static const char roostctl_help_group[] =
"usage: roostctl group add ADDR --member ADDR [--member ADDR...] "
"[--name NAME]\n"
"       roostctl group members ADDR [--json]\n"
"       roostctl group del ADDR\n"
"       roostctl group list [--json]\n"
"\n"
"'group add' creates the group, or adds the members to an existing one.\n"
"\n"
"  --member ADDR   a member; repeat for more\n"
"  --name NAME     the group's display name\n"
"  --json          print the node's JSON instead of a table\n";

static const char roostctl_help_status[] =
"usage: roostctl status [--json]\n"
"\n"
"Shows the node's name, version, uptime and counts; in a cluster also\n"
"its nodes and a summary of the partitions (--json has every partition:\n"
"epoch, primary, replicas, in-sync set).\n"
"\n"
"  --json   print the node's JSON instead of a table\n";

static const char roostctl_help_cluster[] =
"usage: roostctl cluster init --etcd URL[,URL...] --name NAME --token-file F\n"
"                             [--partitions N] [--replicas R]\n"
"       roostctl cluster wait [--timeout SECONDS]\n"
"\n"
"'cluster init' creates the cluster NAME in etcd (under /roost/NAME/; it\n"
"refuses if NAME exists): N partitions (default 64, fixed for the\n"
"cluster's life), R copies of each (default 3), a key the nodes encrypt\n"
"and authenticate their links with, and a new admin token, written to F\n"
"(mode 0600). etcd keeps only the token's hash. It talks to etcd, not\n"
"to a node: --node and the global --token-file do not apply.\n"
"\n"
"'cluster wait' waits until every partition has a live primary, all its\n"
"replicas in sync and the placement has settled (default 60 s); exit 1\n"
"with what is missing.\n";

static const char roostctl_help_node[] =
"usage: roostctl node add ID [--zone ZONE]\n"
"       roostctl node list [--json]\n"
"\n"
"'node add' makes a running node (roostd --node-id ID) a member of the\n"
"cluster; the controller then gives it partitions. 'node list' shows\n"
"members and running nodes that are not members yet (standby).\n"
"\n"
"  --zone ZONE   the node's failure zone (replicas go to distinct zones)\n"
"  --json        print the node's JSON instead of a table\n";

static const struct {
	const char *cmd;
	const char *text;
} roostctl_help_texts[] = {
	{ "cluster", roostctl_help_cluster },
	{ "node", roostctl_help_node },
	{ "domain", roostctl_help_domain },
	{ "user", roostctl_help_user },
	{ "alias", roostctl_help_alias },
	{ "group", roostctl_help_group },
	{ "status", roostctl_help_status },
	{ "help", roostctl_help_main },
};

int
roostctl_help_print(const char *cmd, FILE *f)
{
	if (cmd == NULL) {
		fputs(roostctl_help_main, f);
		return 0;
	}
	for (size_t i = 0; i < ROOSTCTL_NELEM(roostctl_help_texts); i++) {
		if (strcmp(roostctl_help_texts[i].cmd, cmd) == 0) {
			fputs(roostctl_help_texts[i].text, f);
			return 0;
		}
	}
	return -1;
}
