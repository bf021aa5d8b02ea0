package main

import "syscall"

// childProcAttr makes a child process die with the benchmark, even when the
// benchmark itself is killed with SIGKILL.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
