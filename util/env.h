/* env.h: on/off switches read once from the environment (the A/B timing knobs of the conv paths). */
#pragma once
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* True unless the variable NAME is set to "0"; read on the first call into *cache (start it at -1). */
static inline bool env_switch(const char *name, int *cache) {
    if (*cache < 0) {
        const char *e = getenv(name);
        *cache = !(e && strcmp(e, "0") == 0);
    }
    return *cache;
}
