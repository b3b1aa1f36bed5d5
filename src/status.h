/* status.h -- the status codes of softlin's fallible functions.
 *
 * Kernels cannot fail and return void; everything that reads input,
 * allocates or validates returns one of these.
 */
#ifndef SOFTLIN_STATUS_H
#define SOFTLIN_STATUS_H

typedef enum sl_status {
    SL_OK = 0,
    SL_ENOMEM, /* an allocation failed */
    SL_EIO,    /* a file could not be read or written */
    SL_EPARSE, /* malformed text (JSON syntax, a number) */
    SL_EINVAL, /* well-formed but invalid (shape, range, finiteness) */
    SL_ENOTSPD /* a covariance is not symmetric positive definite */
} sl_status;

/* A short lower-case name for a status, for messages. */
const char *sl_status_str(sl_status st);

#endif
