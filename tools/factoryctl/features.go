package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
)

func newFeaturesCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "features",
		Short: "Manage the feature store: definitions, online and historical features, backfills",
		Example: `  factoryctl features apply -f features.yaml
  factoryctl features list
  factoryctl features online --service churn_v1 --entity customer_id=c-42
  factoryctl features historical --entities rows.csv --service churn_v1 --out train.parquet`,
		Args: noArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(newFeaturesApplyCmd(a), newFeaturesListCmd(a), newFeaturesGetCmd(a),
		newFeaturesOnlineCmd(a), newFeaturesHistoricalCmd(a), newFeaturesBackfillCmd(a))
	return cmd
}

// withFeatures dials the mesh and runs fn with a feature store client.
func (a *app) withFeatures(fn func(featurestorev1.FeatureStoreServiceClient) error) error {
	conn, err := a.dial()
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(featurestorev1.NewFeatureStoreServiceClient(conn))
}

func newFeaturesApplyCmd(a *app) *cobra.Command {
	var (
		file, domain string
		dryRun       bool
	)
	cmd := &cobra.Command{
		Use:   "apply -f features.yaml",
		Short: "Create or update entities, feature views and feature services from YAML",
		Long: `Create or update entities, feature views and feature services from a
features.yaml document, like 'feast apply'. Each changed definition gets a
new version; unchanged ones are left alone. --dry-run shows the plan without
applying it.

The table lists every definition of the document: KIND, NAME, ACTION
(created, updated or unchanged), VERSION and what changed.`,
		Example: `  factoryctl features apply -f examples/retailer/features.yaml
  factoryctl features apply -f features.yaml --dry-run
  factoryctl features apply -f features.yaml --domain sales -o json
  cat features.yaml | factoryctl features apply -f -`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				b   []byte
				err error
			)
			if file == "-" {
				b, err = io.ReadAll(cmd.InOrStdin())
			} else {
				b, err = os.ReadFile(file)
			}
			if err != nil {
				return fmt.Errorf("read the definitions: %w", err)
			}
			if len(b) == 0 {
				return usageErrorf("the definitions in %s are empty", file)
			}
			return a.withFeatures(func(cl featurestorev1.FeatureStoreServiceClient) error {
				resp, err := unary(a, cmd, cl.Apply, &featurestorev1.ApplyRequest{Yaml: string(b), Domain: domain, DryRun: dryRun})
				if err != nil {
					return err
				}
				return a.print(cmd, resp, func(w io.Writer) error {
					if dryRun {
						fmt.Fprintln(w, "Dry run: nothing was applied.")
						fmt.Fprintln(w)
					}
					return output.ChangesTable(w, resp.GetChanges())
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&file, "file", "f", "", "features.yaml document; - reads stdin")
	f.StringVar(&domain, "domain", "", "domain owning the definitions (default: the document's domain)")
	f.BoolVar(&dryRun, "dry-run", false, "show the plan without applying it")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// Sections of `features list`.
const (
	sectionEntities = "entities"
	sectionViews    = "views"
	sectionServices = "services"
)

func newFeaturesListCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list [entities|views|services]",
		Short: "List entities, feature views and feature services",
		Long: `List entities, feature views and feature services; with an argument only
that kind.

Without an argument, -o json and -o yaml print the three lists under the
keys entities, featureViews and featureServices (the shape of an
ApplyRequest).`,
		Example: `  factoryctl features list
  factoryctl features list views
  factoryctl features list services -o yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErrorf("%s takes at most one argument: entities, views or services", cmd.CommandPath())
			}
			if len(args) == 1 {
				switch args[0] {
				case sectionEntities, sectionViews, sectionServices:
				default:
					return usageErrorf("invalid argument %q: allowed values are entities, views, services", args[0])
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			section := ""
			if len(args) == 1 {
				section = args[0]
			}
			return a.withFeatures(func(cl featurestorev1.FeatureStoreServiceClient) error {
				all := &featurestorev1.ApplyRequest{}
				if section == "" || section == sectionEntities {
					resp, err := unary(a, cmd, cl.ListEntities, &featurestorev1.ListEntitiesRequest{})
					if err != nil {
						return err
					}
					if section != "" {
						return a.print(cmd, resp, func(w io.Writer) error { return output.EntitiesTable(w, resp.GetEntities()) })
					}
					all.Entities = resp.GetEntities()
				}
				if section == "" || section == sectionViews {
					resp, err := unary(a, cmd, cl.ListFeatureViews, &featurestorev1.ListFeatureViewsRequest{})
					if err != nil {
						return err
					}
					if section != "" {
						return a.print(cmd, resp, func(w io.Writer) error { return output.ViewsTable(w, resp.GetFeatureViews()) })
					}
					all.FeatureViews = resp.GetFeatureViews()
				}
				resp, err := unary(a, cmd, cl.ListFeatureServices, &featurestorev1.ListFeatureServicesRequest{})
				if err != nil {
					return err
				}
				if section != "" {
					return a.print(cmd, resp, func(w io.Writer) error { return output.ServicesTable(w, resp.GetFeatureServices()) })
				}
				all.FeatureServices = resp.GetFeatureServices()
				return a.print(cmd, all, func(w io.Writer) error {
					return output.FeatureDefinitions(w, all.GetEntities(), all.GetFeatureViews(), all.GetFeatureServices())
				})
			})
		},
	}
}

func newFeaturesGetCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Show a feature view or a feature service",
		Example: `  factoryctl features get view customer_orders
  factoryctl features get service churn_v1 -o yaml`,
		Args: noArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "view NAME",
		Short: "Show a feature view: its source, entity, timestamp field, TTL and features",
		Example: `  factoryctl features get view customer_orders
  factoryctl features get view customer_orders -o json`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFeatures(func(cl featurestorev1.FeatureStoreServiceClient) error {
				resp, err := unary(a, cmd, cl.GetFeatureView, &featurestorev1.GetFeatureViewRequest{Name: args[0]})
				if err != nil {
					return err
				}
				v := resp.GetFeatureView()
				return a.print(cmd, v, func(w io.Writer) error { return output.ViewDetail(w, v) })
			})
		},
	}, &cobra.Command{
		Use:   "service NAME",
		Short: "Show a feature service and the features it names",
		Example: `  factoryctl features get service churn_v1
  factoryctl features get service churn_v1 -o yaml`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withFeatures(func(cl featurestorev1.FeatureStoreServiceClient) error {
				resp, err := unary(a, cmd, cl.GetFeatureService, &featurestorev1.GetFeatureServiceRequest{Name: args[0]})
				if err != nil {
					return err
				}
				s := resp.GetFeatureService()
				return a.print(cmd, s, func(w io.Writer) error { return output.ServiceDetail(w, s) })
			})
		},
	})
	return cmd
}
