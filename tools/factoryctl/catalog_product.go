package main

import (
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/enums"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
)

func newProductCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "product",
		Short:   "Manage data products",
		Example: "  factoryctl catalog product list --domain sales",
		Args:    noArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(newProductCreateCmd(a), newProductListCmd(a), newProductGetCmd(a),
		newProductSearchCmd(a), newProductUpdateCmd(a))
	return cmd
}

// productFlags are the descriptive fields of a product that create and
// update take.
type productFlags struct {
	p             catalogv1.DataProduct
	status        *enums.Value[catalogv1.ProductStatus]
	compatibility *enums.Value[catalogv1.CompatibilityMode]
}

func addProductFlags(f *pflag.FlagSet) *productFlags {
	pf := &productFlags{
		status:        enums.NewValue[catalogv1.ProductStatus](catalogv1.ProductStatus(0).Descriptor()),
		compatibility: enums.NewValue[catalogv1.CompatibilityMode](catalogv1.CompatibilityMode(0).Descriptor()),
	}
	f.StringVar(&pf.p.Title, "title", "", "human readable title")
	f.StringVar(&pf.p.Description, "description", "", "what the product holds and what it is for")
	f.StringVar(&pf.p.Owner, "owner", "", "principal accountable for the product")
	f.StringSliceVar(&pf.p.Tags, "tag", nil, "tag (repeatable)")
	f.Var(pf.status, "status", pf.status.Usage("lifecycle status"))
	f.Var(pf.compatibility, "compatibility", pf.compatibility.Usage("contract changes allowed within a major version (server default backward)"))
	return pf
}

// product returns the product with the enum flags applied.
func (pf *productFlags) product() *catalogv1.DataProduct {
	p := &pf.p
	p.Status, _ = pf.status.Get()
	p.Compatibility, _ = pf.compatibility.Get()
	return p
}

func newProductCreateCmd(a *app) *cobra.Command {
	var pf *productFlags
	cmd := &cobra.Command{
		Use:   "create DOMAIN/NAME",
		Short: "Register a data product in a domain",
		Example: `  factoryctl catalog product create sales/orders --title "Orders" --owner alice \
    --tag orders --tag revenue --compatibility full --status draft`,
		Args: exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			p := pf.product()
			p.Domain, p.Name = r.Domain, r.Name
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.CreateDataProduct, &catalogv1.CreateDataProductRequest{Product: p})
				if err != nil {
					return err
				}
				return a.printProduct(cmd, resp.GetProduct())
			})
		},
	}
	pf = addProductFlags(cmd.Flags())
	return cmd
}

func (a *app) printProduct(cmd *cobra.Command, p *catalogv1.DataProduct) error {
	return a.print(cmd, p, func(w io.Writer) error { return output.ProductDetail(w, p) })
}

// filterFlags are the flags of product list and search.
type filterFlags struct {
	domain, tag    string
	status         *enums.Value[catalogv1.ProductStatus]
	classification *enums.Value[catalogv1.Classification]
	limit          int
}

func addFilterFlags(cmd *cobra.Command) *filterFlags {
	ff := &filterFlags{
		status:         enums.NewValue[catalogv1.ProductStatus](catalogv1.ProductStatus(0).Descriptor()),
		classification: enums.NewValue[catalogv1.Classification](catalogv1.Classification(0).Descriptor()),
	}
	f := cmd.Flags()
	f.StringVar(&ff.domain, "domain", "", "only products of this domain")
	f.StringVar(&ff.tag, "tag", "", "only products with this tag")
	f.Var(ff.status, "status", ff.status.Usage("only products in this status"))
	f.Var(ff.classification, "classification", ff.classification.Usage("only products whose newest contract has a field of this classification"))
	addLimitFlag(cmd, &ff.limit)
	return ff
}

func (ff *filterFlags) filter() *catalogv1.ProductFilter {
	st, _ := ff.status.Get()
	cl, _ := ff.classification.Get()
	return &catalogv1.ProductFilter{Domain: ff.domain, Tag: ff.tag, Status: st, Classification: cl}
}

func newProductListCmd(a *app) *cobra.Command {
	var ff *filterFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List data products",
		Example: `  factoryctl catalog product list
  factoryctl catalog product list --domain sales --status active
  factoryctl catalog product list --classification pii -o yaml`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				ps, err := paging(ff.limit, func(size int32, token string) ([]*catalogv1.DataProduct, string, error) {
					resp, err := unary(a, cmd, cl.ListDataProducts, &catalogv1.ListDataProductsRequest{Filter: ff.filter(), PageSize: size, PageToken: token})
					return resp.GetProducts(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return err
				}
				return a.print(cmd, &catalogv1.ListDataProductsResponse{Products: ps}, func(w io.Writer) error {
					return output.ProductsTable(w, ps)
				})
			})
		},
	}
	ff = addFilterFlags(cmd)
	return cmd
}

func newProductSearchCmd(a *app) *cobra.Command {
	var ff *filterFlags
	cmd := &cobra.Command{
		Use:   "search QUERY...",
		Short: "Find data products by words in their names, titles, descriptions, tags and fields",
		Example: `  factoryctl catalog product search customer email
  factoryctl catalog product search orders --domain sales --classification pii`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s needs a QUERY", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			query := strings.Join(args, " ")
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				ps, err := paging(ff.limit, func(size int32, token string) ([]*catalogv1.DataProduct, string, error) {
					resp, err := unary(a, cmd, cl.SearchDataProducts, &catalogv1.SearchDataProductsRequest{Query: query, Filter: ff.filter(), PageSize: size, PageToken: token})
					return resp.GetProducts(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return err
				}
				return a.print(cmd, &catalogv1.SearchDataProductsResponse{Products: ps}, func(w io.Writer) error {
					return output.ProductsTable(w, ps)
				})
			})
		},
	}
	ff = addFilterFlags(cmd)
	return cmd
}

func newProductGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "get DOMAIN/NAME",
		Short:   "Show a data product and its output ports",
		Example: "  factoryctl catalog product get sales/orders\n  factoryctl catalog product get sales/orders -o json",
		Args:    exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.GetDataProduct, &catalogv1.GetDataProductRequest{Domain: r.Domain, Name: r.Name})
				if err != nil {
					return err
				}
				return a.printProduct(cmd, resp.GetProduct())
			})
		},
	}
}

// productMaskFields maps update flags to the update_mask paths they set.
var productMaskFields = []struct{ flag, path string }{
	{"title", "title"},
	{"description", "description"},
	{"owner", "owner"},
	{"tag", "tags"},
	{"status", "status"},
	{"compatibility", "compatibility"},
}

// updateMask lists the paths of the flags set on the command line, so that
// an update changes only what the user named.
func updateMask(f *pflag.FlagSet) []string {
	var mask []string
	for _, m := range productMaskFields {
		if f.Changed(m.flag) {
			mask = append(mask, m.path)
		}
	}
	return mask
}

func newProductUpdateCmd(a *app) *cobra.Command {
	var pf *productFlags
	cmd := &cobra.Command{
		Use:   "update DOMAIN/NAME",
		Short: "Change a data product's descriptive fields, status or compatibility mode",
		Example: `  factoryctl catalog product update sales/orders --title "All orders" --status active
  factoryctl catalog product update sales/orders --compatibility full_transitive`,
		Args: exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			mask := updateMask(cmd.Flags())
			if len(mask) == 0 {
				return usageErrorf("nothing to update: set at least one of --title, --description, --owner, --tag, --status, --compatibility")
			}
			p := pf.product()
			p.Domain, p.Name = r.Domain, r.Name
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.UpdateDataProduct, &catalogv1.UpdateDataProductRequest{Product: p, UpdateMask: mask})
				if err != nil {
					return err
				}
				return a.printProduct(cmd, resp.GetProduct())
			})
		},
	}
	pf = addProductFlags(cmd.Flags())
	return cmd
}
