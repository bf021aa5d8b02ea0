package app

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/names"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// Limits on domain and product descriptions and member lists.
const (
	MaxDescriptionLen = 4096
	MaxTitleLen       = 256
	MaxPrincipalLen   = 128
	MaxMembers        = 1000
	MaxTags           = 50
)

// CreateDomain creates a business domain. Platform admins only.
func (s *Service) CreateDomain(ctx context.Context, in *catalogv1.Domain) (*catalogv1.Domain, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var v service.Violations
	if in == nil {
		in = &catalogv1.Domain{}
	}
	checkName(&v, "domain.name", in.GetName())
	checkText(&v, "domain.description", in.GetDescription(), MaxDescriptionLen)
	checkPrincipals(&v, "domain.owners", in.GetOwners())
	checkPrincipals(&v, "domain.members", in.GetMembers())
	if err := v.Err(); err != nil {
		return nil, err
	}
	if !p.IsAdmin() {
		return nil, service.PermissionDenied(fmt.Sprintf("%s may not create domains: only a platform admin can", p.Name))
	}
	now := timestamppb.New(s.now())
	d := &catalogv1.Domain{
		Name:        in.GetName(),
		Description: in.GetDescription(),
		Owners:      sortedUnique(in.GetOwners()),
		Members:     sortedUnique(in.GetMembers()),
		CreateTime:  now,
		UpdateTime:  now,
	}
	if len(d.Owners) == 0 {
		d.Owners = []string{p.Name}
	}
	ev := Event{Subject: domainSubject(d.Name), Msg: &catalogv1.DomainChanged{Domain: d, Created: true, Actor: p.Name}}
	if err := s.repo.CreateDomain(ctx, d, []Event{ev}); err != nil {
		return nil, storeErr(err, "domain", d.Name)
	}
	return d, nil
}

// GetDomain returns one domain.
func (s *Service) GetDomain(ctx context.Context, name string) (*catalogv1.Domain, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	var v service.Violations
	checkName(&v, "name", name)
	if err := v.Err(); err != nil {
		return nil, err
	}
	d, err := s.repo.GetDomain(ctx, name)
	return d, storeErr(err, "domain", name)
}

// ListDomains returns a page of domains in name order.
func (s *Service) ListDomains(ctx context.Context, pageSize int32, pageToken string) ([]*catalogv1.Domain, string, error) {
	if _, err := caller(ctx); err != nil {
		return nil, "", err
	}
	var v service.Violations
	limit := pageLimit(&v, pageSize)
	cur := decodeCursor(&v, pageToken)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	ds, err := s.repo.ListDomains(ctx, cur.Name, limit+1)
	if err != nil {
		return nil, "", storeErr(err, "domains", "")
	}
	next := ""
	if len(ds) > limit {
		ds = ds[:limit]
		next = encodeCursor(cursor{Name: ds[limit-1].GetName()})
	}
	return ds, next, nil
}

// UpdateDomainMembers adds and removes members and owners, and may change
// the description. A domain's owners or a platform admin.
func (s *Service) UpdateDomainMembers(ctx context.Context, req *catalogv1.UpdateDomainMembersRequest) (*catalogv1.Domain, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var v service.Violations
	checkName(&v, "name", req.GetName())
	checkPrincipals(&v, "add_members", req.GetAddMembers())
	checkPrincipals(&v, "remove_members", req.GetRemoveMembers())
	checkPrincipals(&v, "add_owners", req.GetAddOwners())
	checkPrincipals(&v, "remove_owners", req.GetRemoveOwners())
	checkText(&v, "description", req.GetDescription(), MaxDescriptionLen)
	if err := v.Err(); err != nil {
		return nil, err
	}
	d, err := s.repo.UpdateDomain(ctx, req.GetName(), func(d *catalogv1.Domain) (*catalogv1.Domain, []Event, error) {
		if !p.IsAdmin() && !slices.Contains(d.GetOwners(), p.Name) {
			return nil, nil, service.PermissionDenied(fmt.Sprintf("%s may not change domain %s: only its owners or a platform admin can", p.Name, d.GetName()))
		}
		d = proto.Clone(d).(*catalogv1.Domain)
		d.Members = sortedUnique(without(append(d.Members, req.GetAddMembers()...), req.GetRemoveMembers()))
		d.Owners = sortedUnique(without(append(d.Owners, req.GetAddOwners()...), req.GetRemoveOwners()))
		if len(d.Owners) == 0 {
			return nil, nil, service.FailedPrecondition("a domain keeps at least one owner", nil)
		}
		if len(d.Members) > MaxMembers || len(d.Owners) > MaxMembers {
			return nil, nil, service.FailedPrecondition(fmt.Sprintf("a domain has at most %d members and %d owners", MaxMembers, MaxMembers), nil)
		}
		if req.GetDescription() != "" {
			d.Description = req.GetDescription()
		}
		d.UpdateTime = timestamppb.New(s.now())
		return d, []Event{{Subject: domainSubject(d.Name), Msg: &catalogv1.DomainChanged{Domain: d, Actor: p.Name}}}, nil
	})
	return d, storeErr(err, "domain", req.GetName())
}

// authorizeDomainWrite checks that p may change the products and contracts
// of domain: a platform admin, a member or owner of the domain, or a
// principal whose token grants it the domain (service accounts).
func (s *Service) authorizeDomainWrite(ctx context.Context, p auth.Principal, domain string) error {
	if p.IsAdmin() || p.InDomain(domain) {
		return nil
	}
	d, err := s.repo.GetDomain(ctx, domain)
	if err != nil {
		return storeErr(err, "domain", domain)
	}
	if slices.Contains(d.GetMembers(), p.Name) || slices.Contains(d.GetOwners(), p.Name) {
		return nil
	}
	return service.PermissionDenied(fmt.Sprintf("%s is not a member of domain %s: only its members change its products and contracts", p.Name, domain))
}

func checkName(v *service.Violations, field, name string) {
	if !names.IsLabel(name) {
		v.Add(field, fmt.Sprintf("%q is not a valid name: lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63 characters", name))
	}
}

func checkText(v *service.Violations, field, s string, max int) {
	if len(s) > max {
		v.Add(field, fmt.Sprintf("is %d bytes; the limit is %d", len(s), max))
	}
}

func checkPrincipals(v *service.Violations, field string, ps []string) {
	if len(ps) > MaxMembers {
		v.Add(field, fmt.Sprintf("has %d entries; the limit is %d", len(ps), MaxMembers))
		return
	}
	for i, p := range ps {
		if p == "" || len(p) > MaxPrincipalLen {
			v.Add(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("a principal name is 1 to %d characters", MaxPrincipalLen))
		}
	}
}

func sortedUnique(xs []string) []string {
	out := slices.Clone(xs)
	slices.Sort(out)
	return slices.Compact(out)
}

func without(xs, remove []string) []string {
	return slices.DeleteFunc(xs, func(x string) bool { return slices.Contains(remove, x) })
}
