package service

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// Listen listens on TCP addr. setting names what chooses addr, such as
// "FACTORY_GRPC_ADDR (or --grpc-addr)", so that a taken port yields an error a
// user can act on:
//
//	listen 127.0.0.1:7100: address already in use; set FACTORY_GRPC_ADDR (or --grpc-addr) to a free address
func Listen(addr, setting string) (net.Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Setting: setting, Err: err}
	}
	return l, nil
}

// ListenError reports a failed Listen and the setting that chose the address.
type ListenError struct {
	Addr    string
	Setting string
	Err     error
}

func (e *ListenError) Error() string {
	if errors.Is(e.Err, syscall.EADDRINUSE) {
		return fmt.Sprintf("listen %s: address already in use; set %s to a free address", e.Addr, e.Setting)
	}
	return fmt.Sprintf("listen %s (%s): %v", e.Addr, e.Setting, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }
