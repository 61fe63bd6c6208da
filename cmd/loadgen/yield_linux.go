package main

import "syscall"

// osYield gives the CPU to another runnable thread (the fake upstream may
// share this core).
func osYield() { _, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_YIELD, 0, 0, 0) }
