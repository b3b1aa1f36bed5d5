/* status.c -- names of the status codes (status.h), for messages. */
#include "status.h"

const char *sl_status_str(sl_status st)
{
    switch (st) {
    case SL_OK:
        return "ok";
    case SL_ENOMEM:
        return "out of memory";
    case SL_EIO:
        return "input/output error";
    case SL_EPARSE:
        return "parse error";
    case SL_EINVAL:
        return "invalid input";
    case SL_ENOTSPD:
        return "not symmetric positive definite";
    }
    return "unknown status";
}
