/* machined.so: a guest registered with systemd-machined (helpers.h), so
 * that machinectl lists, shows and terminates it.  libsystemd's sd-bus on
 * the system bus (DBUS_SYSTEM_BUS_ADDRESS, as every client honours). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "helpers.h"

static bool machined_absent(const sd_bus_error *e)
{
	static const char *const absent[] = {
		"org.freedesktop.DBus.Error.ServiceUnknown",
		"org.freedesktop.DBus.Error.NameHasNoOwner",
		"org.freedesktop.systemd1.NoSuchUnit"};
	for (size_t i = 0; i < sizeof(absent) / sizeof(*absent); i++)
		if (sd_bus_error_has_name(e, absent[i]))
			return true;
	return false;
}

static int register_machine(const char *name, const unsigned char *uuid,
			    pid_t leader, const char *root, char *msg,
			    size_t msglen)
{
	sd_bus *bus = NULL;
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	static const unsigned char none[16];
	msg[0] = '\0';
	int r = sd_bus_open_system(&bus);
	if (r < 0) {
		snprintf(msg, msglen, "no system bus: %s", strerror(-r));
		return -ENOENT;
	}
	r = sd_bus_message_new_method_call(
		bus, &m, "org.freedesktop.machine1", "/org/freedesktop/machine1",
		"org.freedesktop.machine1.Manager", "RegisterMachine");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", name);
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', uuid ? uuid : none, 16);
	if (r >= 0)
		r = sd_bus_message_append(m, "ssus", "vs", "container",
					  (uint32_t)leader, root);
	if (r >= 0)
		r = sd_bus_call(bus, m, 5 * 1000 * 1000, &err, &reply);
	if (r < 0) {
		snprintf(msg, msglen, "%s%s%s",
			 err.name ? err.name : strerror(-r),
			 err.message ? ": " : "", err.message ? err.message : "");
		if (machined_absent(&err))
			r = -ENOENT;
	}
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	sd_bus_message_unref(m);
	sd_bus_flush_close_unref(bus);
	return r < 0 ? r : 0;
}

const struct vs_machined_ops vs_helper_machined = {
	.register_machine = register_machine,
};
