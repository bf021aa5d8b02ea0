package main

import (
	"github.com/spf13/cobra"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/ref"
)

// newGrantCmds returns `catalog grant` and `catalog revoke`, which give and
// withdraw another domain's read access to a data product.
func newGrantCmds(a *app) []*cobra.Command {
	return []*cobra.Command{
		newAccessCmd(a, accessVerb{
			use:   "grant DOMAIN/PRODUCT --to GRANTEE",
			short: "Let another domain read a data product (members of the owning domain)",
			example: `  factoryctl catalog grant sales/orders --to reviews
  factoryctl catalog grant sales/orders --to reviews -o json`,
			flag: "to", flagUsage: "domain given read access (required)",
			call: func(a *app, cmd *cobra.Command, cl catalogv1.CatalogServiceClient, p ref.Product, grantee string) (*catalogv1.DataProduct, error) {
				resp, err := unary(a, cmd, cl.GrantAccess, &catalogv1.GrantAccessRequest{Domain: p.Domain, Product: p.Name, Grantee: grantee})
				return resp.GetProduct(), err
			},
		}),
		newAccessCmd(a, accessVerb{
			use:     "revoke DOMAIN/PRODUCT --from GRANTEE",
			short:   "Withdraw a domain's read access to a data product",
			example: "  factoryctl catalog revoke sales/orders --from reviews",
			flag:    "from", flagUsage: "domain whose read access is withdrawn (required)",
			call: func(a *app, cmd *cobra.Command, cl catalogv1.CatalogServiceClient, p ref.Product, grantee string) (*catalogv1.DataProduct, error) {
				resp, err := unary(a, cmd, cl.RevokeAccess, &catalogv1.RevokeAccessRequest{Domain: p.Domain, Product: p.Name, Grantee: grantee})
				return resp.GetProduct(), err
			},
		}),
	}
}

// accessVerb is what differs between grant and revoke.
type accessVerb struct {
	use, short, example string
	flag, flagUsage     string
	call                func(*app, *cobra.Command, catalogv1.CatalogServiceClient, ref.Product, string) (*catalogv1.DataProduct, error)
}

func newAccessCmd(a *app, v accessVerb) *cobra.Command {
	var grantee string
	cmd := &cobra.Command{
		Use:     v.use,
		Short:   v.short,
		Example: v.example,
		Args:    exactArgs("DOMAIN/PRODUCT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			if err := ref.CheckName("--"+v.flag+" domain", grantee); err != nil {
				return &usageError{err}
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				p, err := v.call(a, cmd, cl, r, grantee)
				if err != nil {
					return err
				}
				return a.printProduct(cmd, p)
			})
		},
	}
	cmd.Flags().StringVar(&grantee, v.flag, "", v.flagUsage)
	_ = cmd.MarkFlagRequired(v.flag)
	return cmd
}
