/* vserver-stat's field formats (COMPAT §7), display bugs fixed. */
#include <stdio.h>

#include "base/base.h"

/* Memory: divided by 1024 until below 1000, one decimal when it has one,
 * suffixes ' ' K M G T, '+' beyond. */
void vs_fmt_mem(unsigned long long bytes, char *out, size_t size)
{
	static const char units[] = " KMGT+";
	unsigned long long tenths = bytes * 10;
	int u = 0;
	while (tenths >= 10000 && u < 5) {
		tenths = (tenths + 512) / 1024;
		u++;
	}
	if (tenths / 10 > 9999)
		tenths = 99990;
	if (tenths % 10)
		snprintf(out, size, "%llu.%llu%c", tenths / 10, tenths % 10,
			 units[u]);
	else
		snprintf(out, size, "%llu%c", tenths / 10, units[u]);
}

/* Times: <m>m<ss>s<cc> below an hour (cc = hundredths), <h>h<mm>m<ss>
 * below a day, <d>d<hh>h<mm> below 1000 days, then <y>y<ddd>d<hh>. */
void vs_fmt_time(unsigned long long ms, char *out, size_t size)
{
	unsigned long long s = ms / 1000, cs = (ms % 1000) / 10;
	if (s < 3600)
		snprintf(out, size, "%llum%02llus%02llu", s / 60, s % 60, cs);
	else if (s < 86400)
		snprintf(out, size, "%lluh%02llum%02llu", s / 3600,
			 s / 60 % 60, s % 60);
	else if (s < 1000ULL * 86400)
		snprintf(out, size, "%llud%02lluh%02llu", s / 86400,
			 s / 3600 % 24, s / 60 % 60);
	else if (s / 86400 / 365 < 1000)
		snprintf(out, size, "%lluy%03llud%02llu", s / 86400 / 365,
			 s / 86400 % 365, s / 3600 % 24);
	else
		snprintf(out, size, "INVALID");
}

