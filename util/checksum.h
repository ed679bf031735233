/* checksum.h: a file's content checksum (FNV-1a 64) for recording which model files made a result. */
#pragma once

/* hex[17] gets the 16 hex digits of FNV-1a 64 over the file's bytes. -1 with rn_errmsg() when unreadable. */
int file_checksum(const char *path, char hex[17]);
