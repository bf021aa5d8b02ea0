package output

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// WriteError writes err for a person on a terminal:
//
//	Error: <code>: <message>
//	  - <field>: <description>                  (each BadRequest field violation)
//	  - <subject>: <type>: <description>        (each PreconditionFailure violation)
//
// Errors that carry no gRPC status (usage errors, the client package's
// UnreachableError, local I/O) print as "Error: <err>".
func WriteError(w io.Writer, err error) {
	if err == nil {
		return
	}
	st, ok := statusOf(err)
	if !ok {
		fmt.Fprintf(w, "Error: %v\n", err)
		return
	}
	fmt.Fprintf(w, "Error: %s: %s\n", st.Code(), st.Message())
	WriteDetails(w, st)
}

// statusOf returns the gRPC status in err's chain, if any. The status of a
// wrapped error is printed with the status's own message, since the
// wrapper's text ("…: rpc error: code = … desc = …") would repeat it.
func statusOf(err error) (*status.Status, bool) {
	var se interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &se) {
		return nil, false
	}
	st := se.GRPCStatus()
	return st, st != nil
}

// WriteDetails writes the BadRequest and PreconditionFailure details of st,
// one indented line per violation.
func WriteDetails(w io.Writer, st *status.Status) {
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				fmt.Fprintf(w, "  - %s: %s\n", v.GetField(), v.GetDescription())
			}
		case *errdetails.PreconditionFailure:
			for _, v := range d.GetViolations() {
				fmt.Fprintf(w, "  - %s: %s: %s\n", v.GetSubject(), v.GetType(), v.GetDescription())
			}
		}
	}
}
