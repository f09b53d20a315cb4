/* The release, as STATUS, the metrics' build info and the Debian package give it. */
#ifndef VERDON_VERSION_H
#define VERDON_VERSION_H

#define VERDON_VERSION "0.1.0"

#endif
