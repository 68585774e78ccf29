#ifndef C_CONCURRENCY_HOOK_H
#define C_CONCURRENCY_HOOK_H

#include <stdbool.h>

/// Installs `hook` as the Swift runtime's hook for jobs sent to the global concurrent executor
/// (`swift_task_enqueueGlobal_hook`), unless one is installed already; returns whether it was.
///
/// The runtime's variable is linked directly rather than looked up with dlsym: a binary built with
/// the Swift runtime linked in (`--static-swift-stdlib`) does not export it, so dlsym finds nothing.
bool c_concurrency_install_enqueue_global_hook(const void *_Nonnull hook);

#endif
