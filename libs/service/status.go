package service

import (
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/protoadapt"
)

// Violations collects field violations while a request is validated:
//
//	var v service.Violations
//	if !dnsLabel(req.Name) {
//		v.Add("product.name", "must be a lowercase DNS label")
//	}
//	if err := v.Err(); err != nil {
//		return nil, err
//	}
//
// The zero value is ready to use.
type Violations struct {
	fields []*errdetails.BadRequest_FieldViolation
}

// Add records that field (a dotted path such as "product.owner") violates a
// rule, described for a human.
func (v *Violations) Add(field, description string) {
	v.fields = append(v.fields, &errdetails.BadRequest_FieldViolation{Field: field, Description: description})
}

// Addf is Add with a formatted description.
func (v *Violations) Addf(field, format string, args ...any) {
	v.Add(field, fmt.Sprintf(format, args...))
}

// Len returns the number of violations recorded.
func (v *Violations) Len() int { return len(v.fields) }

// Err returns nil when nothing was recorded, otherwise an InvalidArgument
// status whose message lists the violations and whose details carry them as
// errdetails.BadRequest.
func (v *Violations) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	parts := make([]string, len(v.fields))
	for i, f := range v.fields {
		parts[i] = f.GetField() + ": " + f.GetDescription()
	}
	st := status.New(codes.InvalidArgument, "invalid request: "+strings.Join(parts, "; "))
	return withDetails(st, &errdetails.BadRequest{FieldViolations: v.fields})
}

// FailedPrecondition returns a FailedPrecondition status for a request that
// is well formed but cannot be applied in the current state, with one
// violation per unmet condition (Type such as "CONTRACT_BREAKING", Subject the
// thing concerned, Description for a human).
func FailedPrecondition(msg string, violations []*errdetails.PreconditionFailure_Violation) error {
	// The message stays a one-line summary; the violations travel as details
	// (grpcurl and factoryctl print them one per line).
	st := status.New(codes.FailedPrecondition, msg)
	if len(violations) == 0 {
		return st.Err()
	}
	return withDetails(st, &errdetails.PreconditionFailure{Violations: violations})
}

// NotFound returns a NotFound status for the resource of kind ("data product")
// and name, with errdetails.ResourceInfo.
func NotFound(kind, name string) error {
	st := status.New(codes.NotFound, fmt.Sprintf("%s %q not found", kind, name))
	return withDetails(st, &errdetails.ResourceInfo{ResourceType: kind, ResourceName: name})
}

// AlreadyExists returns an AlreadyExists status for the resource of kind and
// name, with errdetails.ResourceInfo.
func AlreadyExists(kind, name string) error {
	st := status.New(codes.AlreadyExists, fmt.Sprintf("%s %q already exists", kind, name))
	return withDetails(st, &errdetails.ResourceInfo{ResourceType: kind, ResourceName: name})
}

// PermissionDenied returns a PermissionDenied status with msg, which should
// say what is missing (e.g. "alice is not a member of domain sales").
func PermissionDenied(msg string) error {
	return status.Error(codes.PermissionDenied, msg)
}

// Unavailable returns an Unavailable status (the client may retry) wrapping
// the cause's text, e.g. a dependency that cannot be reached.
func Unavailable(msg string, cause error) error {
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return status.Error(codes.Unavailable, msg)
}

// withDetails attaches detail to st; should marshalling ever fail the status
// is still returned, without the detail.
func withDetails(st *status.Status, detail protoadapt.MessageV1) error {
	if d, err := st.WithDetails(detail); err == nil {
		return d.Err()
	}
	return st.Err()
}

// BadRequestFromError returns the field violations carried by err, a gRPC
// status error (possibly wrapped); nil if there are none.
func BadRequestFromError(err error) []*errdetails.BadRequest_FieldViolation {
	var out []*errdetails.BadRequest_FieldViolation
	for _, d := range details(err) {
		if br, ok := d.(*errdetails.BadRequest); ok {
			out = append(out, br.GetFieldViolations()...)
		}
	}
	return out
}

// PreconditionViolations returns the precondition violations carried by err;
// nil if there are none.
func PreconditionViolations(err error) []*errdetails.PreconditionFailure_Violation {
	var out []*errdetails.PreconditionFailure_Violation
	for _, d := range details(err) {
		if pf, ok := d.(*errdetails.PreconditionFailure); ok {
			out = append(out, pf.GetViolations()...)
		}
	}
	return out
}

// ResourceFromError returns the resource a NotFound or AlreadyExists error
// is about, or nil.
func ResourceFromError(err error) *errdetails.ResourceInfo {
	for _, d := range details(err) {
		if ri, ok := d.(*errdetails.ResourceInfo); ok {
			return ri
		}
	}
	return nil
}

func details(err error) []any {
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	return st.Details()
}
