package app

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/auth"
	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// MaxGrants bounds the domains granted read access to one product.
const MaxGrants = 1000

// GrantAccess lets the domain grantee read a product. Like every product
// write, members and owners of the owning domain or a platform admin.
// Granting an existing grant again changes nothing.
func (s *Service) GrantAccess(ctx context.Context, domain, product, grantee string) (*catalogv1.DataProduct, error) {
	p, err := s.authorizeGrant(ctx, domain, product, grantee)
	if err != nil {
		return nil, err
	}
	// Domains are never deleted, so checking outside the transaction below
	// cannot let a grant to a vanished domain through.
	if _, err := s.repo.GetDomain(ctx, grantee); err != nil {
		return nil, storeErr(err, "domain", grantee)
	}
	out, err := s.repo.UpdateProduct(ctx, domain, product, func(cur *catalogv1.DataProduct) (*catalogv1.DataProduct, []Event, error) {
		if slices.Contains(cur.GetGrants(), grantee) {
			return cur, nil, nil
		}
		if len(cur.GetGrants()) >= MaxGrants {
			return nil, nil, service.FailedPrecondition(
				fmt.Sprintf("data product %s/%s already grants %d domains; the limit is %d", domain, product, len(cur.GetGrants()), MaxGrants),
				[]*errdetails.PreconditionFailure_Violation{{
					Type: "GRANT_LIMIT", Subject: domain + "/" + product,
					Description: fmt.Sprintf("a product grants read access to at most %d domains; revoke one first", MaxGrants),
				}})
		}
		up := proto.Clone(cur).(*catalogv1.DataProduct)
		up.Grants = sortedUnique(append(up.Grants, grantee))
		up.UpdateTime = timestamppb.New(s.now())
		return up, []Event{{Subject: productSubject(domain, product), Msg: &catalogv1.DataProductChanged{Product: up, Actor: p.Name}}}, nil
	})
	return out, storeErr(err, "data product", domain+"/"+product)
}

// RevokeAccess withdraws the read access of grantee to a product. Same
// authorization as GrantAccess; NotFound when there is no such grant.
func (s *Service) RevokeAccess(ctx context.Context, domain, product, grantee string) (*catalogv1.DataProduct, error) {
	p, err := s.authorizeGrant(ctx, domain, product, grantee)
	if err != nil {
		return nil, err
	}
	out, err := s.repo.UpdateProduct(ctx, domain, product, func(cur *catalogv1.DataProduct) (*catalogv1.DataProduct, []Event, error) {
		if !slices.Contains(cur.GetGrants(), grantee) {
			return nil, nil, service.NotFound("access grant", grantName(domain, product, grantee))
		}
		up := proto.Clone(cur).(*catalogv1.DataProduct)
		up.Grants = without(up.Grants, []string{grantee})
		up.UpdateTime = timestamppb.New(s.now())
		return up, []Event{{Subject: productSubject(domain, product), Msg: &catalogv1.DataProductChanged{Product: up, Actor: p.Name}}}, nil
	})
	return out, storeErr(err, "data product", domain+"/"+product)
}

// authorizeGrant checks a grant or revoke request and that its caller may
// write the owning domain's products, and returns the caller.
func (s *Service) authorizeGrant(ctx context.Context, domain, product, grantee string) (auth.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return auth.Principal{}, err
	}
	if err := checkGrant(domain, product, grantee); err != nil {
		return auth.Principal{}, err
	}
	if err := s.authorizeDomainWrite(ctx, p, domain); err != nil {
		return auth.Principal{}, err
	}
	return p, nil
}

// checkGrant validates the names of a grant request.
func checkGrant(domain, product, grantee string) error {
	var v service.Violations
	checkName(&v, "domain", domain)
	checkName(&v, "product", product)
	checkName(&v, "grantee", grantee)
	if v.Len() == 0 && grantee == domain {
		v.Add("grantee", fmt.Sprintf("%s owns the product and always reads it; grant another domain", domain))
	}
	return v.Err()
}

// grantName names a grant in ResourceInfo: "sales/orders/grants/reviews".
func grantName(domain, product, grantee string) string {
	return domain + "/" + product + "/grants/" + grantee
}
