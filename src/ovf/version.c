/* version.c - names of OVF versions and their envelope namespaces. */
#include "config.h"
#include "ovf/ovf.h"

#include <string.h>

static const struct {
	enum ovf_version v;
	const char *name, *ns;
} versions[] = {
	{OVF_V_0_9, "0.9", "http://www.vmware.com/schema/ovf/1/envelope"},
	{OVF_V_1, "1.x", "http://schemas.dmtf.org/ovf/envelope/1"},
	{OVF_V_2, "2.x", "http://schemas.dmtf.org/ovf/envelope/2"},
};

const char *ovf_version_name(enum ovf_version v)
{
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
		if (versions[i].v == v)
			return versions[i].name;
	return "unknown";
}

enum ovf_version ovf_version_from_ns(const char *ns)
{
	if (!ns)
		return OVF_V_UNKNOWN;
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++)
		if (strcmp(versions[i].ns, ns) == 0)
			return versions[i].v;
	return OVF_V_UNKNOWN;
}
