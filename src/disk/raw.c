/* raw.c - placeholder driver; replaced by the real one. */
#include "config.h"
#include "disk/driver.h"

const struct disk_driver disk_driver_raw = { .name = "raw" };
