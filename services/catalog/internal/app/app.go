// Package app holds the catalog's commands and queries: who may do what,
// which contract versions may be published, how output ports follow the
// contract's major versions, and which events each change emits. It talks
// to storage through the Repository interface and answers with gRPC status
// errors a client can act on.
package app

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/proto"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// Repository errors the application understands.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
)

// Event is a catalog event to publish after the change commits.
type Event struct {
	// ID becomes ce-id and Nats-Msg-Id; generated when empty.
	ID      string
	Subject string
	Msg     proto.Message
}

// ProductQuery selects products for listing and search.
type ProductQuery struct {
	Domain         string
	Tag            string
	Status         catalogv1.ProductStatus
	Classification string // lowercase name, e.g. "pii"
	// Words must all appear in the product's search text.
	Words []string
	// Keyset cursor: products after (AfterDomain, AfterName).
	AfterDomain, AfterName string
	Limit                  int
}

// Repository stores the catalog. Update methods run fn inside one
// transaction (which may be retried, so fn must have no side effects) and
// store the returned events in the same transaction.
type Repository interface {
	CreateDomain(ctx context.Context, d *catalogv1.Domain, events []Event) error
	GetDomain(ctx context.Context, name string) (*catalogv1.Domain, error)
	ListDomains(ctx context.Context, after string, limit int) ([]*catalogv1.Domain, error)
	UpdateDomain(ctx context.Context, name string,
		fn func(*catalogv1.Domain) (*catalogv1.Domain, []Event, error)) (*catalogv1.Domain, error)

	CreateProduct(ctx context.Context, p *catalogv1.DataProduct, events []Event) error
	GetProduct(ctx context.Context, domain, name string) (*catalogv1.DataProduct, error)
	UpdateProduct(ctx context.Context, domain, name string,
		fn func(*catalogv1.DataProduct) (*catalogv1.DataProduct, []Event, error)) (*catalogv1.DataProduct, error)
	ListProducts(ctx context.Context, q ProductQuery) ([]*catalogv1.DataProduct, error)

	ListContracts(ctx context.Context, domain, product string) ([]*catalogv1.Contract, error)
	PublishContract(ctx context.Context, domain, product string,
		fn func(*catalogv1.DataProduct, []*catalogv1.Contract) (*catalogv1.DataProduct, *catalogv1.Contract, []Event, error)) (*catalogv1.DataProduct, *catalogv1.Contract, error)
	UpdateContract(ctx context.Context, domain, product, version string,
		fn func(*catalogv1.DataProduct, *catalogv1.Contract, []*catalogv1.Contract) (*catalogv1.DataProduct, *catalogv1.Contract, []Event, error)) (*catalogv1.DataProduct, *catalogv1.Contract, error)
}

// Service is the catalog application.
type Service struct {
	repo Repository
	now  func() time.Time
}

// New returns the catalog application over repo.
func New(repo Repository) *Service {
	return &Service{repo: repo, now: time.Now}
}

// Event subjects. Every subject starts with catalog.<domain>, so a consumer
// can follow one domain.
func domainSubject(domain string) string { return "catalog." + domain + ".domain" }
func productSubject(domain, product string) string {
	return "catalog." + domain + ".products." + product
}
func contractSubject(domain, product string) string {
	return "catalog." + domain + ".products." + product + ".contracts"
}
