/*
 * The kernel's build passes "-include linux/kconfig.h" to every compile;
 * our .S files include this header first instead, to see the CONFIG_
 * choices of generated/autoconf.h.
 */
#ifndef __PKVM_LAB_LINUX_KCONFIG_H
#define __PKVM_LAB_LINUX_KCONFIG_H

#include <generated/autoconf.h>

#endif
