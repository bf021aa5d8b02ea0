// Package auth provides the platform's identities and bearer tokens: the
// Principal a request acts as (name, domain memberships, roles), context
// helpers to carry it through a call, and HS256 JSON Web Tokens signed with a
// shared secret that any service can verify without a network round trip.
//
// Tokens are implemented with the standard library only; the accepted shape is
// deliberately narrow (alg HS256, issuer "aifactory") so that a token forged
// with another algorithm, such as "none", is rejected before its claims are read.
package auth

import (
	"context"
	"slices"
)

// RoleAdmin is the role that grants every permission on the platform.
const RoleAdmin = "admin"

// Principal is the identity a request acts as.
type Principal struct {
	// Name identifies the user or workload, e.g. "alice" or "svc:training".
	Name string
	// Domains lists the business domains the principal is a member of.
	Domains []string
	// Roles lists platform roles such as "admin".
	Roles []string
}

// IsAdmin reports whether the principal holds the admin role.
func (p Principal) IsAdmin() bool { return p.HasRole(RoleAdmin) }

// HasRole reports whether the principal holds role r.
func (p Principal) HasRole(r string) bool { return slices.Contains(p.Roles, r) }

// InDomain reports whether the principal is a member of domain d.
func (p Principal) InDomain(d string) bool { return slices.Contains(p.Domains, d) }

type principalKey struct{}

// NewContext returns a copy of ctx that carries p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal carried by ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// Authenticator turns a bearer token into the principal it was issued to.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// AuthenticatorFunc adapts a function to the Authenticator interface.
type AuthenticatorFunc func(ctx context.Context, token string) (Principal, error)

// Authenticate calls f(ctx, token).
func (f AuthenticatorFunc) Authenticate(ctx context.Context, token string) (Principal, error) {
	return f(ctx, token)
}

// clone copies p's slices, so a caller may change what it was given.
func (p Principal) clone() Principal {
	p.Domains, p.Roles = slices.Clone(p.Domains), slices.Clone(p.Roles)
	return p
}
