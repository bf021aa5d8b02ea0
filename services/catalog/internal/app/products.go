package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
)

// MaxSearchWords bounds the words of a search query.
const MaxSearchWords = 16

// CreateDataProduct registers a product in a domain. Members of the domain
// or a platform admin. The owner defaults to the caller, the status to
// DRAFT (it becomes ACTIVE with its first active contract), the
// compatibility mode to BACKWARD.
func (s *Service) CreateDataProduct(ctx context.Context, in *catalogv1.DataProduct) (*catalogv1.DataProduct, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if in == nil {
		in = &catalogv1.DataProduct{}
	}
	var v service.Violations
	checkName(&v, "product.domain", in.GetDomain())
	checkName(&v, "product.name", in.GetName())
	checkProductFields(&v, "product.", in)
	if len(in.GetOutputPorts()) > 0 {
		v.Add("product.output_ports", "output ports are opened by publishing contracts; leave empty")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.authorizeDomainWrite(ctx, p, in.GetDomain()); err != nil {
		return nil, err
	}
	now := timestamppb.New(s.now())
	prod := &catalogv1.DataProduct{
		Domain:        in.GetDomain(),
		Name:          in.GetName(),
		Title:         in.GetTitle(),
		Description:   in.GetDescription(),
		Owner:         in.GetOwner(),
		Tags:          sortedUnique(in.GetTags()),
		Status:        in.GetStatus(),
		Compatibility: in.GetCompatibility(),
		CreateTime:    now,
		UpdateTime:    now,
	}
	if prod.Owner == "" {
		prod.Owner = p.Name
	}
	if prod.Status == catalogv1.ProductStatus_PRODUCT_STATUS_UNSPECIFIED {
		prod.Status = catalogv1.ProductStatus_PRODUCT_STATUS_DRAFT
	}
	if prod.Compatibility == catalogv1.CompatibilityMode_COMPATIBILITY_MODE_UNSPECIFIED {
		prod.Compatibility = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD
	}
	ev := Event{Subject: productSubject(prod.Domain, prod.Name), Msg: &catalogv1.DataProductChanged{Product: prod, Created: true, Actor: p.Name}}
	if err := s.repo.CreateProduct(ctx, prod, []Event{ev}); err != nil {
		return nil, storeErr(err, "data product", prod.Domain+"/"+prod.Name)
	}
	return prod, nil
}

func checkProductFields(v *service.Violations, prefix string, in *catalogv1.DataProduct) {
	checkText(v, prefix+"title", in.GetTitle(), MaxTitleLen)
	checkText(v, prefix+"description", in.GetDescription(), MaxDescriptionLen)
	if len(in.GetOwner()) > MaxPrincipalLen {
		v.Add(prefix+"owner", fmt.Sprintf("a principal name is at most %d characters", MaxPrincipalLen))
	}
	if len(in.GetTags()) > MaxTags {
		v.Add(prefix+"tags", fmt.Sprintf("has %d tags; the limit is %d", len(in.GetTags()), MaxTags))
	}
	for i, t := range in.GetTags() {
		checkName(v, fmt.Sprintf("%stags[%d]", prefix, i), t)
	}
	if _, ok := catalogv1.ProductStatus_name[int32(in.GetStatus())]; !ok {
		v.Add(prefix+"status", "unknown status")
	}
	if _, ok := catalogv1.CompatibilityMode_name[int32(in.GetCompatibility())]; !ok {
		v.Add(prefix+"compatibility", "unknown compatibility mode")
	}
}

// GetDataProduct returns one product.
func (s *Service) GetDataProduct(ctx context.Context, domain, name string) (*catalogv1.DataProduct, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	var v service.Violations
	checkName(&v, "domain", domain)
	checkName(&v, "name", name)
	if err := v.Err(); err != nil {
		return nil, err
	}
	prod, err := s.repo.GetProduct(ctx, domain, name)
	return prod, storeErr(err, "data product", domain+"/"+name)
}

// productMask lists the fields UpdateDataProduct may change.
var productMask = []string{"title", "description", "owner", "tags", "status", "compatibility"}

// UpdateDataProduct changes the fields named in mask (all of productMask
// when empty). Members of the domain or a platform admin.
func (s *Service) UpdateDataProduct(ctx context.Context, in *catalogv1.DataProduct, mask []string) (*catalogv1.DataProduct, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var v service.Violations
	checkName(&v, "product.domain", in.GetDomain())
	checkName(&v, "product.name", in.GetName())
	checkProductFields(&v, "product.", in)
	if len(mask) == 0 {
		mask = productMask
	}
	for i, f := range mask {
		if !slices.Contains(productMask, f) {
			v.Add(fmt.Sprintf("update_mask[%d]", i), fmt.Sprintf("%q cannot be updated; allowed: %s", f, strings.Join(productMask, ", ")))
		}
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if err := s.authorizeDomainWrite(ctx, p, in.GetDomain()); err != nil {
		return nil, err
	}
	out, err := s.repo.UpdateProduct(ctx, in.GetDomain(), in.GetName(), func(cur *catalogv1.DataProduct) (*catalogv1.DataProduct, []Event, error) {
		up := proto.Clone(cur).(*catalogv1.DataProduct)
		for _, f := range mask {
			switch f {
			case "title":
				up.Title = in.GetTitle()
			case "description":
				up.Description = in.GetDescription()
			case "owner":
				up.Owner = in.GetOwner()
			case "tags":
				up.Tags = sortedUnique(in.GetTags())
			case "status":
				if in.GetStatus() == catalogv1.ProductStatus_PRODUCT_STATUS_UNSPECIFIED {
					return nil, nil, invalid("product.status", "must be set when named in update_mask")
				}
				up.Status = in.GetStatus()
			case "compatibility":
				up.Compatibility = in.GetCompatibility()
				if up.Compatibility == catalogv1.CompatibilityMode_COMPATIBILITY_MODE_UNSPECIFIED {
					up.Compatibility = catalogv1.CompatibilityMode_COMPATIBILITY_MODE_BACKWARD
				}
			}
		}
		up.UpdateTime = timestamppb.New(s.now())
		return up, []Event{{Subject: productSubject(up.Domain, up.Name), Msg: &catalogv1.DataProductChanged{Product: up, Actor: p.Name}}}, nil
	})
	return out, storeErr(err, "data product", in.GetDomain()+"/"+in.GetName())
}

// ListDataProducts returns a page of products matching filter, ordered by
// domain and name. With a non-empty query, every word of it must appear in
// the product's name, title, description, owner, tags or field names.
func (s *Service) ListDataProducts(ctx context.Context, filter *catalogv1.ProductFilter, query string, pageSize int32, pageToken string) ([]*catalogv1.DataProduct, string, error) {
	if _, err := caller(ctx); err != nil {
		return nil, "", err
	}
	var v service.Violations
	limit := pageLimit(&v, pageSize)
	cur := decodeCursor(&v, pageToken)
	q := ProductQuery{Limit: limit + 1, AfterDomain: cur.Domain, AfterName: cur.Name}
	if f := filter; f != nil {
		if f.GetDomain() != "" {
			checkName(&v, "filter.domain", f.GetDomain())
		}
		q.Domain, q.Tag, q.Status = f.GetDomain(), f.GetTag(), f.GetStatus()
		if f.GetClassification() != catalogv1.Classification_CLASSIFICATION_UNSPECIFIED {
			q.Classification = ClassificationName(f.GetClassification())
		}
	}
	q.Words = strings.Fields(strings.ToLower(query))
	if len(q.Words) > MaxSearchWords {
		v.Add("query", fmt.Sprintf("has %d words; the limit is %d", len(q.Words), MaxSearchWords))
	}
	if len(query) > MaxTitleLen {
		v.Add("query", fmt.Sprintf("is %d bytes; the limit is %d", len(query), MaxTitleLen))
	}
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	ps, err := s.repo.ListProducts(ctx, q)
	if err != nil {
		return nil, "", storeErr(err, "data products", "")
	}
	next := ""
	if len(ps) > limit {
		ps = ps[:limit]
		last := ps[limit-1]
		next = encodeCursor(cursor{Domain: last.GetDomain(), Name: last.GetName()})
	}
	return ps, next, nil
}

// ClassificationName is the lowercase name of a classification ("pii").
func ClassificationName(c catalogv1.Classification) string {
	return strings.ToLower(strings.TrimPrefix(c.String(), "CLASSIFICATION_"))
}

// RecordFreshness stores the freshness ingestion last reported for a
// product, unless a newer report is already stored (redelivered or
// out-of-order events never move it backwards). Unknown products are
// ignored: the report outlived them.
func (s *Service) RecordFreshness(ctx context.Context, domain, product string, f *catalogv1.Freshness) error {
	_, err := s.repo.UpdateProduct(ctx, domain, product, func(cur *catalogv1.DataProduct) (*catalogv1.DataProduct, []Event, error) {
		if old := cur.GetFreshness(); old != nil && !f.GetObservedAt().AsTime().After(old.GetObservedAt().AsTime()) {
			return cur, nil, nil
		}
		up := proto.Clone(cur).(*catalogv1.DataProduct)
		up.Freshness = f
		up.UpdateTime = timestamppb.New(s.now())
		return up, []Event{{Subject: productSubject(domain, product), Msg: &catalogv1.DataProductChanged{Product: up, Actor: "ingestion"}}}, nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
