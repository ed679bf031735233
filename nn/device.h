/* device.h: where a tensor's memory lives (the host or a CUDA device). */
#pragma once

/* Zero is the host, so every tensor made without naming a device (memset, calloc) is a CPU one. */
typedef enum Device { DEV_CPU = 0, DEV_CUDA = 1 } Device;

/* "cpu" / "cuda", for messages. */
const char *device_name(Device d);
