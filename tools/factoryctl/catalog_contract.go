package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	catalogv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/catalog/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/enums"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
	"github.com/aifactory/aifactory/tools/factoryctl/internal/ref"
)

func newContractCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "contract",
		Short:   "Publish, check and inspect data contracts (ODCS v3.1)",
		Example: "  factoryctl catalog contract apply -f orders.odcs.yaml",
		Args:    noArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(newContractApplyCmd(a), newContractCheckCmd(a), newContractGetCmd(a),
		newContractHistoryCmd(a), newContractExportCmd(a), newContractStatusCmd(a))
	return cmd
}

// contractSource is the -f and --product flags of apply and check.
type contractSource struct {
	file    string
	product string
}

func addContractSourceFlags(cmd *cobra.Command) *contractSource {
	src := &contractSource{}
	cmd.Flags().StringVarP(&src.file, "file", "f", "", "ODCS v3.1 contract YAML; - reads stdin")
	cmd.Flags().StringVar(&src.product, "product", "", "target product DOMAIN/NAME, when the contract does not name it")
	_ = cmd.MarkFlagRequired("file")
	return src
}

// read returns the contract YAML and the target product.
func (src *contractSource) read(cmd *cobra.Command) (string, ref.Product, error) {
	var target ref.Product
	if src.product != "" {
		p, err := productArg(src.product)
		if err != nil {
			return "", ref.Product{}, err
		}
		target = p
	}
	var (
		b   []byte
		err error
	)
	if src.file == "-" {
		b, err = io.ReadAll(cmd.InOrStdin())
	} else {
		b, err = os.ReadFile(src.file)
	}
	if err != nil {
		return "", ref.Product{}, fmt.Errorf("read the contract: %w", err)
	}
	if len(b) == 0 {
		return "", ref.Product{}, usageErrorf("the contract %s is empty", src.name())
	}
	return string(b), target, nil
}

func (src *contractSource) name() string {
	if src.file == "-" {
		return "on stdin"
	}
	return src.file
}

// warnUnmodeled tells on stderr which ODCS elements the catalog dropped.
func warnUnmodeled(cmd *cobra.Command, paths []string) {
	for _, p := range paths {
		fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %s is not modeled by the catalog and was not stored\n", p)
	}
}

func newContractApplyCmd(a *app) *cobra.Command {
	var src *contractSource
	cmd := &cobra.Command{
		Use:   "apply -f FILE.yaml",
		Short: "Publish a contract version from ODCS YAML",
		Long: `Publish a contract version from ODCS v3.1 YAML.

Within a major version the new version must be compatible with the earlier
ones under the product's compatibility mode; otherwise nothing is stored and
every violation is listed. A new major version opens a new output port.`,
		Example: `  factoryctl catalog contract apply -f orders.odcs.yaml
  factoryctl catalog contract apply -f orders.odcs.yaml --product sales/orders
  cat orders.odcs.yaml | factoryctl catalog contract apply -f -`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			yml, target, err := src.read(cmd)
			if err != nil {
				return err
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.PublishContract, &catalogv1.PublishContractRequest{
					Source: &catalogv1.PublishContractRequest_OdcsYaml{OdcsYaml: yml},
					Domain: target.Domain, Product: target.Name,
				})
				if err != nil {
					return a.publishError(cmd, cl, err, yml, target)
				}
				warnUnmodeled(cmd, resp.GetUnmodeled())
				return a.print(cmd, resp, func(w io.Writer) error {
					c := resp.GetContract()
					fmt.Fprintf(w, "Published %s/%s %s (%s)\n\n", c.GetDomain(), c.GetProduct(), c.GetVersion(), enums.Name(c.GetStatus()))
					return output.PortsTable(w, resp.GetProduct().GetOutputPorts())
				})
			})
		},
	}
	src = addContractSourceFlags(cmd)
	return cmd
}

// publishError reports a rejected publish. When the catalog refused an
// incompatible contract, the violations are listed in full — field, rule,
// old → new, the version broken against — taken from the error's details
// when the catalog attached them, otherwise from a CheckCompatibility dry
// run of the same contract (which stores nothing).
func (a *app) publishError(cmd *cobra.Command, cl catalogv1.CatalogServiceClient, err error, yml string, target ref.Product) error {
	st, ok := status.FromError(err)
	if !ok || st.Code() != codes.FailedPrecondition {
		return err
	}
	vs := violationDetails(st)
	if len(vs) == 0 {
		check, cerr := unary(a, cmd, cl.CheckCompatibility, &catalogv1.CheckCompatibilityRequest{
			Source: &catalogv1.CheckCompatibilityRequest_OdcsYaml{OdcsYaml: yml},
			Domain: target.Domain, Product: target.Name,
		})
		if cerr != nil || check.GetCompatible() {
			return err // not a compatibility failure: the generic rendering says it all
		}
		vs = check.GetViolations()
	}
	if len(vs) == 0 {
		return err
	}
	w := cmd.ErrOrStderr()
	fmt.Fprintf(w, "Error: %s: %s\n", st.Code(), st.Message())
	if err := output.WriteViolations(w, vs); err != nil {
		return err
	}
	return errReported
}

// violationDetails returns catalog Violations attached to st as details,
// directly or inside a CheckCompatibilityResponse.
func violationDetails(st *status.Status) []*catalogv1.Violation {
	var vs []*catalogv1.Violation
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *catalogv1.Violation:
			vs = append(vs, d)
		case *catalogv1.CheckCompatibilityResponse:
			vs = append(vs, d.GetViolations()...)
		}
	}
	return vs
}

func newContractCheckCmd(a *app) *cobra.Command {
	var src *contractSource
	cmd := &cobra.Command{
		Use:   "check -f FILE.yaml",
		Short: "Check whether a contract could be published (exit status 1 if incompatible)",
		Example: `  factoryctl catalog contract check -f orders.odcs.yaml
  factoryctl catalog contract check -f orders.odcs.yaml --product sales/orders -o json`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			yml, target, err := src.read(cmd)
			if err != nil {
				return err
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.CheckCompatibility, &catalogv1.CheckCompatibilityRequest{
					Source: &catalogv1.CheckCompatibilityRequest_OdcsYaml{OdcsYaml: yml},
					Domain: target.Domain, Product: target.Name,
				})
				if err != nil {
					return err
				}
				warnUnmodeled(cmd, resp.GetUnmodeled())
				if err := a.print(cmd, resp, func(w io.Writer) error {
					fmt.Fprintln(w, output.CompatibleSummary(resp))
					if len(resp.GetViolations()) == 0 {
						return nil
					}
					fmt.Fprintln(w)
					return output.ViolationsTable(w, resp.GetViolations())
				}); err != nil {
					return err
				}
				if !resp.GetCompatible() {
					return errReported
				}
				return nil
			})
		},
	}
	src = addContractSourceFlags(cmd)
	return cmd
}

func newContractGetCmd(a *app) *cobra.Command {
	var (
		version string
		major   int32
	)
	cmd := &cobra.Command{
		Use:   "get DOMAIN/NAME",
		Short: "Show a contract version and its fields",
		Example: `  factoryctl catalog contract get sales/orders
  factoryctl catalog contract get sales/orders --version 1.2.0
  factoryctl catalog contract get sales/orders --major 2 -o yaml`,
		Args: exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			if major < 0 {
				return usageErrorf("--major must be positive, got %d", major)
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.GetContract, &catalogv1.GetContractRequest{
					Domain: r.Domain, Product: r.Name, Version: version, Major: major,
				})
				if err != nil {
					return err
				}
				return a.print(cmd, resp.GetContract(), func(w io.Writer) error {
					return output.ContractDetail(w, resp.GetContract())
				})
			})
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "exact version (default: the newest)")
	cmd.Flags().Int32Var(&major, "major", 0, "the newest version of this major")
	cmd.MarkFlagsMutuallyExclusive("version", "major")
	return cmd
}

func newContractHistoryCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "history DOMAIN/NAME",
		Short:   "List a product's contract versions, oldest first",
		Example: "  factoryctl catalog contract history sales/orders",
		Args:    exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.ListContractVersions, &catalogv1.ListContractVersionsRequest{Domain: r.Domain, Product: r.Name})
				if err != nil {
					return err
				}
				return a.print(cmd, resp, func(w io.Writer) error {
					return output.ContractVersionsTable(w, resp.GetContracts())
				})
			})
		},
	}
}

func newContractExportCmd(a *app) *cobra.Command {
	var version string
	cmd := &cobra.Command{
		Use:   "export DOMAIN/NAME",
		Short: "Print a contract version as ODCS v3.1 YAML",
		Example: `  factoryctl catalog contract export sales/orders > orders.odcs.yaml
  factoryctl catalog contract export sales/orders --version 1.0.0`,
		Args: exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.ExportContract, &catalogv1.ExportContractRequest{Domain: r.Domain, Product: r.Name, Version: version})
				if err != nil {
					return err
				}
				// The YAML is the output in every -o format: it is already a
				// document, and round-trips through apply unchanged.
				_, err = io.WriteString(cmd.OutOrStdout(), resp.GetOdcsYaml())
				return err
			})
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "exact version (default: the newest)")
	return cmd
}

func newContractStatusCmd(a *app) *cobra.Command {
	d := catalogv1.ContractStatus(0).Descriptor()
	return &cobra.Command{
		Use:   "status DOMAIN/NAME VERSION draft|active|deprecated|retired",
		Short: "Move a contract version along draft → active → deprecated → retired",
		Example: `  factoryctl catalog contract status sales/orders 1.0.0 active
  factoryctl catalog contract status sales/orders 1.0.0 deprecated`,
		Args: exactArgs("DOMAIN/NAME", "VERSION", "STATUS"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			st, err := enumArg("STATUS", d, args[2])
			if err != nil {
				return err
			}
			return a.withCatalog(func(cl catalogv1.CatalogServiceClient) error {
				resp, err := unary(a, cmd, cl.SetContractStatus, &catalogv1.SetContractStatusRequest{
					Domain: r.Domain, Product: r.Name, Version: args[1], Status: catalogv1.ContractStatus(st),
				})
				if err != nil {
					return err
				}
				return a.print(cmd, resp, func(w io.Writer) error {
					c := resp.GetContract()
					fmt.Fprintf(w, "%s/%s %s is now %s\n\n", c.GetDomain(), c.GetProduct(), c.GetVersion(), enums.Name(c.GetStatus()))
					return output.PortsTable(w, resp.GetProduct().GetOutputPorts())
				})
			})
		},
	}
}
