package main

import (
	"io"

	"github.com/spf13/cobra"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/ref"
)

func newDomainCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "domain",
		Short:   "Manage business domains and their members",
		Example: "  factoryctl catalog domain list",
		Args:    noArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(newDomainCreateCmd(a), newDomainListCmd(a), newDomainGetCmd(a), newDomainMembersCmd(a))
	return cmd
}

func newDomainCreateCmd(a *app) *cobra.Command {
	var d catalogv1.Domain
	cmd := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a business domain (platform admins only)",
		Example: `  factoryctl catalog domain create sales --description "Orders and invoices" --owner alice --member bob --member carol`,
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := ref.CheckName("domain", args[0]); err != nil {
				return &usageError{err}
			}
			d.Name = args[0]
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.CreateDomain, &catalogv1.CreateDomainRequest{Domain: &d})
				if err != nil {
					return err
				}
				return a.print(cmd, resp.GetDomain(), func(w io.Writer) error {
					return output.DomainDetail(w, resp.GetDomain())
				})
			})
		},
	}
	cmd.Flags().StringVar(&d.Description, "description", "", "what the domain is about")
	cmd.Flags().StringSliceVar(&d.Owners, "owner", nil, "principal who manages the domain's members (repeatable)")
	cmd.Flags().StringSliceVar(&d.Members, "member", nil, "principal who changes the domain's products (repeatable)")
	return cmd
}

func newDomainListCmd(a *app) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List business domains",
		Example: "  factoryctl catalog domain list\n  factoryctl catalog domain list -o json --limit 10",
		Args:    exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				ds, err := paging(limit, func(size int32, token string) ([]*catalogv1.Domain, string, error) {
					resp, err := unary(a, cmd, cl.ListDomains, &catalogv1.ListDomainsRequest{PageSize: size, PageToken: token})
					return resp.GetDomains(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return err
				}
				return a.print(cmd, &catalogv1.ListDomainsResponse{Domains: ds}, func(w io.Writer) error {
					return output.DomainsTable(w, ds)
				})
			})
		},
	}
	addLimitFlag(cmd, &limit)
	return cmd
}

func addLimitFlag(cmd *cobra.Command, limit *int) {
	cmd.Flags().IntVar(limit, "limit", 0, "print at most N items (0: all)")
}

func newDomainGetCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "get NAME",
		Short:   "Show a business domain with its owners and members",
		Example: "  factoryctl catalog domain get sales",
		Args:    exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				return a.showDomain(cmd, cl, args[0])
			})
		},
	}
}

func (a *app) showDomain(cmd *cobra.Command, cl catalogv1.CatalogServiceClient, name string) error {
	resp, err := unary(a, cmd, cl.GetDomain, &catalogv1.GetDomainRequest{Name: name})
	if err != nil {
		return err
	}
	return a.print(cmd, resp.GetDomain(), func(w io.Writer) error {
		return output.DomainDetail(w, resp.GetDomain())
	})
}

func newDomainMembersCmd(a *app) *cobra.Command {
	var req catalogv1.UpdateDomainMembersRequest
	cmd := &cobra.Command{
		Use:   "members NAME",
		Short: "Show or change a domain's members and owners",
		Example: `  factoryctl catalog domain members sales
  factoryctl catalog domain members sales --add dave --remove bob
  factoryctl catalog domain members sales --add-owner carol --remove-owner alice`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				if len(req.AddMembers)+len(req.RemoveMembers)+len(req.AddOwners)+len(req.RemoveOwners) == 0 && req.Description == "" {
					return a.showDomain(cmd, cl, req.Name)
				}
				resp, err := unary(a, cmd, cl.UpdateDomainMembers, &req)
				if err != nil {
					return err
				}
				return a.print(cmd, resp.GetDomain(), func(w io.Writer) error {
					return output.DomainDetail(w, resp.GetDomain())
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&req.AddMembers, "add", nil, "principal to add as member (repeatable)")
	f.StringSliceVar(&req.RemoveMembers, "remove", nil, "member to remove (repeatable)")
	f.StringSliceVar(&req.AddOwners, "add-owner", nil, "principal to add as owner (repeatable)")
	f.StringSliceVar(&req.RemoveOwners, "remove-owner", nil, "owner to remove (repeatable)")
	f.StringVar(&req.Description, "description", "", "also change the domain's description")
	return cmd
}
