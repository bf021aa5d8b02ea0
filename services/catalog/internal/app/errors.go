package app

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/service"
)

// storeErr turns a repository error into the status a client can act on.
func storeErr(err error, kind, name string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return service.NotFound(kind, name)
	case errors.Is(err, ErrExists):
		return service.AlreadyExists(kind, name)
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return status.FromContextError(err).Err()
	}
	return status.Errorf(codes.Unavailable, "%s %s: storage: %v", kind, name, err)
}

// caller returns the authenticated principal of the call.
func caller(ctx context.Context) (auth.Principal, error) {
	p, ok := auth.FromContext(ctx)
	if !ok {
		return auth.Principal{}, status.Error(codes.Unauthenticated, "no principal: call with a bearer token")
	}
	return p, nil
}

// invalid is an InvalidArgument with one field violation.
func invalid(field, description string) error {
	var v service.Violations
	v.Add(field, description)
	return v.Err()
}
