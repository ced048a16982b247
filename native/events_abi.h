// The generated flat-layout header (bpf/gen/events.h) for C++: it is written
// for C (BPF), so map C11 _Static_assert to C++'s static_assert while
// including it. Gives TR_BATCH_MAGIC, TR_FLAT_VERSION, struct tr_context, ...
#pragma once

#include <linux/types.h>

#ifdef __cplusplus
#define _Static_assert static_assert
#include "../bpf/gen/events.h"
#undef _Static_assert
#else
#include "../bpf/gen/events.h"
#endif
