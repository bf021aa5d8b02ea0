// Package ports exposes the catalog application as the gRPC service
// aifactory.catalog.v1.CatalogService. Handlers only translate requests and
// responses; the rules live in package app.
package ports

import (
	"context"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	"github.com/aifactory/aifactory/services/catalog/internal/app"
)

// GRPCServer implements catalogv1.CatalogServiceServer.
type GRPCServer struct {
	catalogv1.UnimplementedCatalogServiceServer
	app *app.Service
}

// NewGRPCServer returns the gRPC handlers over a.
func NewGRPCServer(a *app.Service) *GRPCServer { return &GRPCServer{app: a} }

func (s *GRPCServer) CreateDomain(ctx context.Context, req *catalogv1.CreateDomainRequest) (*catalogv1.CreateDomainResponse, error) {
	d, err := s.app.CreateDomain(ctx, req.GetDomain())
	if err != nil {
		return nil, err
	}
	return &catalogv1.CreateDomainResponse{Domain: d}, nil
}

func (s *GRPCServer) GetDomain(ctx context.Context, req *catalogv1.GetDomainRequest) (*catalogv1.GetDomainResponse, error) {
	d, err := s.app.GetDomain(ctx, req.GetName())
	if err != nil {
		return nil, err
	}
	return &catalogv1.GetDomainResponse{Domain: d}, nil
}

func (s *GRPCServer) ListDomains(ctx context.Context, req *catalogv1.ListDomainsRequest) (*catalogv1.ListDomainsResponse, error) {
	ds, next, err := s.app.ListDomains(ctx, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &catalogv1.ListDomainsResponse{Domains: ds, NextPageToken: next}, nil
}

func (s *GRPCServer) UpdateDomainMembers(ctx context.Context, req *catalogv1.UpdateDomainMembersRequest) (*catalogv1.UpdateDomainMembersResponse, error) {
	d, err := s.app.UpdateDomainMembers(ctx, req)
	if err != nil {
		return nil, err
	}
	return &catalogv1.UpdateDomainMembersResponse{Domain: d}, nil
}

func (s *GRPCServer) CreateDataProduct(ctx context.Context, req *catalogv1.CreateDataProductRequest) (*catalogv1.CreateDataProductResponse, error) {
	p, err := s.app.CreateDataProduct(ctx, req.GetProduct())
	if err != nil {
		return nil, err
	}
	return &catalogv1.CreateDataProductResponse{Product: p}, nil
}

func (s *GRPCServer) GetDataProduct(ctx context.Context, req *catalogv1.GetDataProductRequest) (*catalogv1.GetDataProductResponse, error) {
	p, err := s.app.GetDataProduct(ctx, req.GetDomain(), req.GetName())
	if err != nil {
		return nil, err
	}
	return &catalogv1.GetDataProductResponse{Product: p}, nil
}

func (s *GRPCServer) UpdateDataProduct(ctx context.Context, req *catalogv1.UpdateDataProductRequest) (*catalogv1.UpdateDataProductResponse, error) {
	p, err := s.app.UpdateDataProduct(ctx, req.GetProduct(), req.GetUpdateMask())
	if err != nil {
		return nil, err
	}
	return &catalogv1.UpdateDataProductResponse{Product: p}, nil
}

func (s *GRPCServer) ListDataProducts(ctx context.Context, req *catalogv1.ListDataProductsRequest) (*catalogv1.ListDataProductsResponse, error) {
	ps, next, err := s.app.ListDataProducts(ctx, req.GetFilter(), "", req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &catalogv1.ListDataProductsResponse{Products: ps, NextPageToken: next}, nil
}

func (s *GRPCServer) SearchDataProducts(ctx context.Context, req *catalogv1.SearchDataProductsRequest) (*catalogv1.SearchDataProductsResponse, error) {
	ps, next, err := s.app.ListDataProducts(ctx, req.GetFilter(), req.GetQuery(), req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &catalogv1.SearchDataProductsResponse{Products: ps, NextPageToken: next}, nil
}

func (s *GRPCServer) PublishContract(ctx context.Context, req *catalogv1.PublishContractRequest) (*catalogv1.PublishContractResponse, error) {
	res, err := s.app.PublishContract(ctx, app.ContractSource{
		Contract: req.GetContract(), ODCSYAML: req.GetOdcsYaml(), Domain: req.GetDomain(), Product: req.GetProduct(),
	})
	if err != nil {
		return nil, err
	}
	return &catalogv1.PublishContractResponse{Contract: res.Contract, Product: res.Product, Unmodeled: res.Unmodeled}, nil
}

func (s *GRPCServer) CheckCompatibility(ctx context.Context, req *catalogv1.CheckCompatibilityRequest) (*catalogv1.CheckCompatibilityResponse, error) {
	return s.app.CheckCompatibility(ctx, app.ContractSource{
		Contract: req.GetContract(), ODCSYAML: req.GetOdcsYaml(), Domain: req.GetDomain(), Product: req.GetProduct(),
	})
}

func (s *GRPCServer) GetContract(ctx context.Context, req *catalogv1.GetContractRequest) (*catalogv1.GetContractResponse, error) {
	c, err := s.app.GetContract(ctx, req.GetDomain(), req.GetProduct(), req.GetVersion(), req.GetMajor())
	if err != nil {
		return nil, err
	}
	return &catalogv1.GetContractResponse{Contract: c}, nil
}

func (s *GRPCServer) ListContractVersions(ctx context.Context, req *catalogv1.ListContractVersionsRequest) (*catalogv1.ListContractVersionsResponse, error) {
	cs, err := s.app.ListContractVersions(ctx, req.GetDomain(), req.GetProduct())
	if err != nil {
		return nil, err
	}
	return &catalogv1.ListContractVersionsResponse{Contracts: cs}, nil
}

func (s *GRPCServer) SetContractStatus(ctx context.Context, req *catalogv1.SetContractStatusRequest) (*catalogv1.SetContractStatusResponse, error) {
	c, p, err := s.app.SetContractStatus(ctx, req.GetDomain(), req.GetProduct(), req.GetVersion(), req.GetStatus())
	if err != nil {
		return nil, err
	}
	return &catalogv1.SetContractStatusResponse{Contract: c, Product: p}, nil
}

func (s *GRPCServer) ExportContract(ctx context.Context, req *catalogv1.ExportContractRequest) (*catalogv1.ExportContractResponse, error) {
	y, err := s.app.ExportContract(ctx, req.GetDomain(), req.GetProduct(), req.GetVersion())
	if err != nil {
		return nil, err
	}
	return &catalogv1.ExportContractResponse{OdcsYaml: y}, nil
}

func (s *GRPCServer) GrantAccess(ctx context.Context, req *catalogv1.GrantAccessRequest) (*catalogv1.GrantAccessResponse, error) {
	p, err := s.app.GrantAccess(ctx, req.GetDomain(), req.GetProduct(), req.GetGrantee())
	if err != nil {
		return nil, err
	}
	return &catalogv1.GrantAccessResponse{Product: p}, nil
}

func (s *GRPCServer) RevokeAccess(ctx context.Context, req *catalogv1.RevokeAccessRequest) (*catalogv1.RevokeAccessResponse, error) {
	p, err := s.app.RevokeAccess(ctx, req.GetDomain(), req.GetProduct(), req.GetGrantee())
	if err != nil {
		return nil, err
	}
	return &catalogv1.RevokeAccessResponse{Product: p}, nil
}
