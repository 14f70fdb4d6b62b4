/* The --interface [name=][dev:]ip[/mask|prefix] syntax (COMPAT §2.1),
 * with IPv6 in brackets or detected. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int vs_mask_to_prefix(const char *mask)
{
	struct in_addr a;
	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	uint32_t m = ntohl(a.s_addr);
	int prefix = 0;
	while (m & 0x80000000u) {
		prefix++;
		m <<= 1;
	}
	return m ? -1 : prefix; /* bits after the first 0 make it invalid */
}

static bool valid_devname(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || n > 15)
		return false;
	for (; *d; d++)
		if (*d <= ' ' || *d >= 0x7f || *d == '/' || *d == ':' ||
		    *d == '=' || *d == '[' || *d == ']')
			return false;
	return true;
}

static bool valid_name(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || n > 32)
		return false;
	for (; *d; d++)
		if (!((*d >= 'a' && *d <= 'z') || (*d >= 'A' && *d <= 'Z') ||
		      (*d >= '0' && *d <= '9') || *d == '_' || *d == '-' ||
		      *d == '.'))
			return false;
	return true;
}

static bool is_ipv6(const char *s)
{
	struct in6_addr a;
	return inet_pton(AF_INET6, s, &a) == 1;
}

static bool is_ipv4(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

int vs_iface_parse(struct vs_ctx *ctx, const char *spec,
		   struct vs_iface_spec *out)
{
	char buf[256], *rest, *suffix = NULL;
	memset(out, 0, sizeof(*out));
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return vs_set_error(ctx, "invalid interface '%.40s...': too long",
				    spec);
	rest = buf;

	char *eq = strchr(rest, '=');
	if (eq) {
		*eq = '\0';
		if (!valid_name(rest))
			return vs_set_error(ctx,
					    "invalid interface '%s': bad name "
					    "'%s'",
					    spec, rest);
		snprintf(out->name, sizeof(out->name), "%s", rest);
		rest = eq + 1;
	}

	char *br = strchr(rest, '[');
	if (br) {
		/* [dev:][v6addr][/prefix] */
		char *close = strchr(br, ']');
		if (!close || (close[1] && close[1] != '/'))
			return vs_set_error(ctx,
					    "invalid interface '%s': unbalanced "
					    "brackets",
					    spec);
		if (br != rest) {
			if (br[-1] != ':')
				return vs_set_error(ctx,
						    "invalid interface '%s': "
						    "expected ':' before '['",
						    spec);
			br[-1] = '\0';
			snprintf(out->dev, sizeof(out->dev), "%.*s",
				 (int)sizeof(out->dev) - 1, rest);
			if (strlen(rest) >= sizeof(out->dev))
				out->dev[0] = '!';
		}
		*close = '\0';
		snprintf(out->ip, sizeof(out->ip), "%s", br + 1);
		if (close[1] == '/')
			suffix = close + 2;
		if (!is_ipv6(out->ip))
			return vs_set_error(ctx,
					    "invalid interface '%s': '%s' is "
					    "not an IPv6 address",
					    spec, out->ip);
	} else {
		char *slash = strchr(rest, '/');
		if (slash) {
			*slash = '\0';
			suffix = slash + 1;
		}
		if (!is_ipv6(rest)) {
			char *colon = strchr(rest, ':');
			if (colon) {
				*colon = '\0';
				if (strlen(rest) >= sizeof(out->dev))
					out->dev[0] = '!';
				else
					snprintf(out->dev, sizeof(out->dev),
						 "%s", rest);
				rest = colon + 1;
			}
		}
		if (strlen(rest) >= sizeof(out->ip))
			return vs_set_error(ctx,
					    "invalid interface '%s': bad "
					    "address",
					    spec);
		snprintf(out->ip, sizeof(out->ip), "%s", rest);
	}
	if (out->dev[0] == '!' || (out->dev[0] && !valid_devname(out->dev)))
		return vs_set_error(ctx, "invalid interface '%s': bad device name",
				    spec);
	if (strcmp(out->dev, "nodev") == 0) {
		out->dev[0] = '\0';
		out->nodev = true;
	}

	if (is_ipv6(out->ip))
		out->ipv6 = true;
	else if (!is_ipv4(out->ip))
		return vs_set_error(ctx,
				    "invalid interface '%s': '%s' is not an IP "
				    "address",
				    spec, out->ip);

	if (suffix) {
		if (!*suffix)
			return vs_set_error(ctx,
					    "invalid interface '%s': empty "
					    "prefix",
					    spec);
		if (strchr(suffix, '.')) {
			if (out->ipv6)
				return vs_set_error(ctx,
						    "invalid interface '%s': an "
						    "IPv6 address takes a "
						    "prefix length, not a mask",
						    spec);
			if (vs_mask_to_prefix(suffix) < 0 ||
			    strlen(suffix) >= sizeof(out->mask))
				return vs_set_error(ctx,
						    "invalid interface '%s': bad "
						    "netmask '%s'",
						    spec, suffix);
			snprintf(out->mask, sizeof(out->mask), "%s", suffix);
		} else {
			int max = out->ipv6 ? 128 : 32;
			char *end;
			long p = strtol(suffix, &end, 10);
			if (*end || suffix[0] < '0' || suffix[0] > '9' ||
			    p < 0 || p > max || strlen(suffix) > 3)
				return vs_set_error(ctx,
						    "invalid interface '%s': "
						    "prefix '%s' is not between "
						    "0 and %d",
						    spec, suffix, max);
			snprintf(out->prefix, sizeof(out->prefix), "%ld", p);
		}
	}
	return 0;
}
