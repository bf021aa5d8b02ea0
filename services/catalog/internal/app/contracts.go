package app

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aifactory/aifactory/libs/service"
	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"
	"github.com/aifactory/aifactory/services/catalog/internal/contract"
)

// ContractSource is a contract given either structured or as ODCS YAML, with
// the target product named beside it or inside it.
type ContractSource struct {
	Contract *catalogv1.Contract
	ODCSYAML string
	Domain   string
	Product  string
}

// candidate is a parsed and validated contract ready to compare and store.
type candidate struct {
	c         *catalogv1.Contract
	version   contract.Semver
	unmodeled []string
}

// resolve parses and validates src into a candidate contract.
func resolve(src ContractSource) (*candidate, error) {
	var (
		c         *catalogv1.Contract
		unmodeled []string
		v         service.Violations
	)
	switch {
	case src.Contract != nil && src.ODCSYAML != "":
		v.Add("source", "give either contract or odcs_yaml, not both")
	case src.Contract != nil:
		c = proto.Clone(src.Contract).(*catalogv1.Contract)
	case src.ODCSYAML != "":
		var err error
		c, unmodeled, err = contract.ParseODCS([]byte(src.ODCSYAML))
		if err != nil {
			v.Add("odcs_yaml", err.Error())
		}
	default:
		v.Add("source", "a contract or odcs_yaml is required")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	if src.Domain != "" {
		if c.Domain != "" && c.Domain != src.Domain {
			v.Add("domain", fmt.Sprintf("the request names domain %q but the contract says %q", src.Domain, c.Domain))
		}
		c.Domain = src.Domain
	}
	if src.Product != "" {
		if c.Product != "" && c.Product != src.Product {
			v.Add("product", fmt.Sprintf("the request names product %q but the contract says %q", src.Product, c.Product))
		}
		c.Product = src.Product
	}
	if c.Id == "" && c.Domain != "" && c.Product != "" {
		c.Id = c.Domain + "." + c.Product
	}
	if c.Status == catalogv1.ContractStatus_CONTRACT_STATUS_UNSPECIFIED {
		c.Status = catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE
	}
	if c.Status != catalogv1.ContractStatus_CONTRACT_STATUS_DRAFT && c.Status != catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE {
		v.Add("contract.status", "a new version starts as draft or active; deprecate or retire it later with SetContractStatus")
	}
	prefix := "contract."
	if src.ODCSYAML != "" {
		prefix = "odcs_yaml."
	}
	for _, fv := range contract.Validate(c) {
		v.Add(prefix+fv.Field, fv.Description)
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	ver, err := contract.ParseSemver(c.Version)
	if err != nil { // Validate checked it already; keep the error honest anyway
		return nil, invalid(prefix+"version", err.Error())
	}
	c.CreatedAt, c.CreatedBy = nil, ""
	return &candidate{c: c, version: ver, unmodeled: unmodeled}, nil
}

// compatibility compares a candidate with the product's history: the
// ordering rules (a new version is greater than every earlier version of its
// major and not already published) and the product's compatibility mode
// within the major. It returns every violation and the versions compared.
func compatibility(prod *catalogv1.DataProduct, cand *candidate, history []*catalogv1.Contract) ([]*catalogv1.Violation, []string) {
	var (
		same []*catalogv1.Contract
		out  []*catalogv1.Violation
	)
	for _, h := range history {
		hv, err := contract.ParseSemver(h.GetVersion())
		if err != nil {
			continue
		}
		if h.GetVersion() == cand.c.GetVersion() {
			out = append(out, &catalogv1.Violation{
				Field: "version", Rule: "version_exists", OldValue: h.GetVersion(), NewValue: cand.c.GetVersion(),
				AgainstVersion: h.GetVersion(), Description: "this version is already published; contracts are immutable, publish a higher version",
			})
		}
		if hv.Major == cand.version.Major {
			same = append(same, h)
		}
	}
	if n := len(same); n > 0 {
		latest := same[n-1]
		lv, _ := contract.ParseSemver(latest.GetVersion())
		if cand.version.Compare(lv) < 0 {
			out = append(out, &catalogv1.Violation{
				Field: "version", Rule: "version_not_greater", OldValue: latest.GetVersion(), NewValue: cand.c.GetVersion(),
				AgainstVersion: latest.GetVersion(), Description: fmt.Sprintf("a new version must be greater than %s, the newest of major %d", latest.GetVersion(), lv.Major),
			})
		}
	}
	out = append(out, contract.Check(prod.GetCompatibility(), cand.c, same)...)
	compared := make([]string, 0, len(same))
	for _, h := range same {
		compared = append(compared, h.GetVersion())
	}
	return out, compared
}

// violationsErr is the FailedPrecondition of an incompatible publish, with
// one PreconditionFailure violation per problem (subject = field, type =
// rule) and the structured CheckCompatibilityResponse beside it, so clients
// can show old → new values without a second call.
func violationsErr(prod *catalogv1.DataProduct, version string, vs []*catalogv1.Violation, compared []string) error {
	details := make([]*errdetails.PreconditionFailure_Violation, 0, len(vs))
	for _, x := range vs {
		details = append(details, &errdetails.PreconditionFailure_Violation{
			Type:        x.GetRule(),
			Subject:     x.GetField(),
			Description: describeViolation(x),
		})
	}
	mode := strings.TrimPrefix(prod.GetCompatibility().String(), "COMPATIBILITY_MODE_")
	err := service.FailedPrecondition(
		fmt.Sprintf("contract %s of %s/%s is incompatible under %s: %d violation(s)", version, prod.GetDomain(), prod.GetName(), mode, len(vs)),
		details)
	withCheck, derr := status.Convert(err).WithDetails(&catalogv1.CheckCompatibilityResponse{
		Mode: prod.GetCompatibility(), Violations: vs, ComparedVersions: compared,
	})
	if derr != nil {
		return err
	}
	return withCheck.Err()
}

func describeViolation(x *catalogv1.Violation) string {
	var b strings.Builder
	if x.GetOldValue() != "" || x.GetNewValue() != "" {
		fmt.Fprintf(&b, "%s → %s", orNone(x.GetOldValue()), orNone(x.GetNewValue()))
	}
	if x.GetAgainstVersion() != "" {
		fmt.Fprintf(&b, " (against %s)", x.GetAgainstVersion())
	}
	if x.GetDescription() != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(x.GetDescription())
	}
	return strings.TrimSpace(b.String())
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// PublishResult is what PublishContract stored.
type PublishResult struct {
	Contract  *catalogv1.Contract
	Product   *catalogv1.DataProduct
	Unmodeled []string
}

// PublishContract stores a new contract version. Within its major version
// it must be compatible with the earlier versions under the product's mode;
// a new major opens a new output port.
func (s *Service) PublishContract(ctx context.Context, src ContractSource) (*PublishResult, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	cand, err := resolve(src)
	if err != nil {
		return nil, err
	}
	c := cand.c
	if err := s.authorizeDomainWrite(ctx, p, c.Domain); err != nil {
		return nil, err
	}
	prod, stored, err := s.repo.PublishContract(ctx, c.Domain, c.Product,
		func(prod *catalogv1.DataProduct, history []*catalogv1.Contract) (*catalogv1.DataProduct, *catalogv1.Contract, []Event, error) {
			if vs, compared := compatibility(prod, cand, history); len(vs) > 0 {
				if slices.ContainsFunc(vs, func(x *catalogv1.Violation) bool { return x.GetRule() == "version_exists" }) {
					return nil, nil, nil, service.AlreadyExists("contract version", fmt.Sprintf("%s/%s %s", c.Domain, c.Product, c.Version))
				}
				return nil, nil, nil, violationsErr(prod, c.Version, vs, compared)
			}
			nc := proto.Clone(c).(*catalogv1.Contract)
			nc.CreatedAt = timestamppb.New(s.now())
			nc.CreatedBy = p.Name
			np := proto.Clone(prod).(*catalogv1.DataProduct)
			all := append(slices.Clone(history), nc)
			refreshProduct(np, all)
			if np.Status == catalogv1.ProductStatus_PRODUCT_STATUS_DRAFT && nc.Status == catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE {
				np.Status = catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE
			}
			np.UpdateTime = nc.CreatedAt
			return np, nc, []Event{
				{Subject: contractSubject(c.Domain, c.Product), Msg: &catalogv1.ContractPublished{Contract: nc, Actor: p.Name}},
				{Subject: productSubject(c.Domain, c.Product), Msg: &catalogv1.DataProductChanged{Product: np, Actor: p.Name}},
			}, nil
		})
	if err != nil {
		return nil, storeErr(err, "data product", c.Domain+"/"+c.Product)
	}
	return &PublishResult{Contract: stored, Product: prod, Unmodeled: cand.unmodeled}, nil
}

// CheckCompatibility is the dry run of PublishContract.
func (s *Service) CheckCompatibility(ctx context.Context, src ContractSource) (*catalogv1.CheckCompatibilityResponse, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	cand, err := resolve(src)
	if err != nil {
		return nil, err
	}
	prod, err := s.repo.GetProduct(ctx, cand.c.Domain, cand.c.Product)
	if err != nil {
		return nil, storeErr(err, "data product", cand.c.Domain+"/"+cand.c.Product)
	}
	history, err := s.repo.ListContracts(ctx, cand.c.Domain, cand.c.Product)
	if err != nil {
		return nil, storeErr(err, "contracts of", cand.c.Domain+"/"+cand.c.Product)
	}
	vs, compared := compatibility(prod, cand, history)
	return &catalogv1.CheckCompatibilityResponse{
		Compatible:       len(vs) == 0,
		Mode:             prod.GetCompatibility(),
		Violations:       vs,
		ComparedVersions: compared,
		Unmodeled:        cand.unmodeled,
	}, nil
}

// refreshProduct recomputes the product's output ports and the field names
// and classifications of its newest contract from all its versions. A port
// follows the newest non-draft version of its major; a major with only
// drafts is a DRAFT port.
func refreshProduct(p *catalogv1.DataProduct, all []*catalogv1.Contract) {
	type port struct {
		latest *catalogv1.Contract
		v      contract.Semver
	}
	ports := map[int64]*port{}
	var newest *catalogv1.Contract
	var newestV contract.Semver
	isDraft := func(c *catalogv1.Contract) bool {
		return c.GetStatus() == catalogv1.ContractStatus_CONTRACT_STATUS_DRAFT
	}
	for _, c := range all {
		v, err := contract.ParseSemver(c.GetVersion())
		if err != nil {
			continue
		}
		pt := ports[v.Major]
		switch {
		case pt == nil:
			ports[v.Major] = &port{latest: c, v: v}
		case isDraft(pt.latest) && !isDraft(c),
			isDraft(pt.latest) == isDraft(c) && v.Compare(pt.v) > 0:
			pt.latest, pt.v = c, v
		}
		if newest == nil || v.Compare(newestV) > 0 {
			newest, newestV = c, v
		}
	}
	majors := make([]int64, 0, len(ports))
	for m := range ports {
		majors = append(majors, m)
	}
	slices.Sort(majors)
	p.OutputPorts = p.OutputPorts[:0]
	for _, m := range majors {
		pt := ports[m]
		st := catalogv1.PortStatus_PORT_STATUS_ACTIVE
		switch pt.latest.GetStatus() {
		case catalogv1.ContractStatus_CONTRACT_STATUS_DRAFT:
			st = catalogv1.PortStatus_PORT_STATUS_DRAFT
		case catalogv1.ContractStatus_CONTRACT_STATUS_DEPRECATED:
			st = catalogv1.PortStatus_PORT_STATUS_DEPRECATED
		case catalogv1.ContractStatus_CONTRACT_STATUS_RETIRED:
			st = catalogv1.PortStatus_PORT_STATUS_RETIRED
		}
		p.OutputPorts = append(p.OutputPorts, &catalogv1.OutputPort{
			Name:          fmt.Sprintf("v%d", m),
			Major:         int32(m),
			LatestVersion: pt.latest.GetVersion(),
			Status:        st,
			Subject:       fmt.Sprintf("data.%s.%s.v%d", p.GetDomain(), p.GetName(), m),
		})
	}
	p.FieldNames, p.Classifications = nil, nil
	if newest != nil {
		seen := map[catalogv1.Classification]bool{}
		for _, o := range newest.GetSchema() {
			walkFields(o.GetName(), o.GetProperties(), func(path string, f *catalogv1.Field) {
				p.FieldNames = append(p.FieldNames, path)
				if c := f.GetClassification(); c != catalogv1.Classification_CLASSIFICATION_UNSPECIFIED && !seen[c] {
					seen[c] = true
					p.Classifications = append(p.Classifications, c)
				}
			})
		}
		slices.Sort(p.Classifications)
	}
}

func walkFields(prefix string, fs []*catalogv1.Field, fn func(string, *catalogv1.Field)) {
	for _, f := range fs {
		path := prefix + "." + f.GetName()
		fn(path, f)
		walkFields(path, f.GetProperties(), fn)
		if it := f.GetItems(); it != nil {
			walkFields(path+"[]", it.GetProperties(), fn)
		}
	}
}

// GetContract returns an exact version, the newest of a major, or the
// newest overall.
func (s *Service) GetContract(ctx context.Context, domain, product, version string, major int32) (*catalogv1.Contract, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	var v service.Violations
	checkName(&v, "domain", domain)
	checkName(&v, "product", product)
	if version != "" {
		if _, err := contract.ParseSemver(version); err != nil {
			v.Add("version", err.Error())
		}
	}
	if major < 0 {
		v.Add("major", "must not be negative")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	history, err := s.listContracts(ctx, domain, product)
	if err != nil {
		return nil, err
	}
	for i := len(history) - 1; i >= 0; i-- {
		c := history[i]
		switch {
		case version != "":
			if c.GetVersion() == version {
				return c, nil
			}
		case major > 0:
			if m, _ := contract.Major(c.GetVersion()); m == int64(major) {
				return c, nil
			}
		default:
			return c, nil
		}
	}
	what := fmt.Sprintf("%s/%s", domain, product)
	switch {
	case version != "":
		what += " " + version
	case major > 0:
		what += fmt.Sprintf(" major %d", major)
	}
	return nil, service.NotFound("contract", what)
}

// ListContractVersions returns every version, oldest first.
func (s *Service) ListContractVersions(ctx context.Context, domain, product string) ([]*catalogv1.Contract, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	var v service.Violations
	checkName(&v, "domain", domain)
	checkName(&v, "product", product)
	if err := v.Err(); err != nil {
		return nil, err
	}
	return s.listContracts(ctx, domain, product)
}

// listContracts returns the history, NotFound when the product is unknown.
func (s *Service) listContracts(ctx context.Context, domain, product string) ([]*catalogv1.Contract, error) {
	if _, err := s.repo.GetProduct(ctx, domain, product); err != nil {
		return nil, storeErr(err, "data product", domain+"/"+product)
	}
	cs, err := s.repo.ListContracts(ctx, domain, product)
	return cs, storeErr(err, "contracts of", domain+"/"+product)
}

// SetContractStatus moves a version forward along draft → active →
// deprecated → retired.
func (s *Service) SetContractStatus(ctx context.Context, domain, product, version string, st catalogv1.ContractStatus) (*catalogv1.Contract, *catalogv1.DataProduct, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, nil, err
	}
	var v service.Violations
	checkName(&v, "domain", domain)
	checkName(&v, "product", product)
	if _, err := contract.ParseSemver(version); err != nil {
		v.Add("version", err.Error())
	}
	if _, ok := catalogv1.ContractStatus_name[int32(st)]; !ok || st == catalogv1.ContractStatus_CONTRACT_STATUS_UNSPECIFIED {
		v.Add("status", "must be draft, active, deprecated or retired")
	}
	if err := v.Err(); err != nil {
		return nil, nil, err
	}
	if err := s.authorizeDomainWrite(ctx, p, domain); err != nil {
		return nil, nil, err
	}
	prod, c, err := s.repo.UpdateContract(ctx, domain, product, version,
		func(prod *catalogv1.DataProduct, c *catalogv1.Contract, all []*catalogv1.Contract) (*catalogv1.DataProduct, *catalogv1.Contract, []Event, error) {
			prev := c.GetStatus()
			if st < prev {
				return nil, nil, nil, service.FailedPrecondition(fmt.Sprintf("contract %s is %s; the lifecycle only moves forward (draft → active → deprecated → retired)",
					version, statusName(prev)), []*errdetails.PreconditionFailure_Violation{{
					Type: "lifecycle", Subject: "status", Description: fmt.Sprintf("%s → %s is not allowed", statusName(prev), statusName(st)),
				}})
			}
			nc := proto.Clone(c).(*catalogv1.Contract)
			nc.Status = st
			np := proto.Clone(prod).(*catalogv1.DataProduct)
			for i, h := range all {
				if h.GetVersion() == version {
					all[i] = nc
				}
			}
			refreshProduct(np, all)
			if np.Status == catalogv1.ProductStatus_PRODUCT_STATUS_DRAFT && st == catalogv1.ContractStatus_CONTRACT_STATUS_ACTIVE {
				np.Status = catalogv1.ProductStatus_PRODUCT_STATUS_ACTIVE
			}
			np.UpdateTime = timestamppb.New(s.now())
			return np, nc, []Event{
				{Subject: contractSubject(domain, product), Msg: &catalogv1.ContractStatusChanged{Contract: nc, PreviousStatus: prev, Actor: p.Name}},
				{Subject: productSubject(domain, product), Msg: &catalogv1.DataProductChanged{Product: np, Actor: p.Name}},
			}, nil
		})
	if err != nil {
		return nil, nil, storeErr(err, "contract", fmt.Sprintf("%s/%s %s", domain, product, version))
	}
	return c, prod, nil
}

func statusName(s catalogv1.ContractStatus) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "CONTRACT_STATUS_"))
}

// ExportContract renders a version (the newest when empty) as ODCS YAML.
func (s *Service) ExportContract(ctx context.Context, domain, product, version string) (string, error) {
	c, err := s.GetContract(ctx, domain, product, version, 0)
	if err != nil {
		return "", err
	}
	b, err := contract.ExportODCS(c)
	if err != nil {
		return "", status.Errorf(codes.Internal, "export %s/%s %s: %v", domain, product, c.GetVersion(), err)
	}
	return string(b), nil
}
