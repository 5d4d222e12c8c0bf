// Services is header-only; this file makes it a library of its own, so that
// what links it depends on every domain library through one target.
#include "server/service/services.h"
