package main

import (
	"io"
	"os"
	"slices"

	"github.com/spf13/cobra"

	featurestorev1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/featurestore/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
)

func newFeaturesOnlineCmd(a *app) *cobra.Command {
	var (
		sel      *featureSelection
		entities []string
		file     string
	)
	cmd := &cobra.Command{
		Use:   "online (--service NAME | --features view:feature,...) (--entity key=value ... | --entities FILE.csv)",
		Short: "Read the latest features of up to 1000 entities from the online store",
		Long: `Read the latest features of entities from the online store.

Each --entity is one entity row: its join keys as key=value, comma-separated
for entities with several keys. --entities reads the rows from a CSV file
instead (a header row, then at most 1000 rows); its columns named like a
join key of the requested features are used, other columns are ignored.

Join key values are sent as strings, except for join keys whose entity
declares them int64, which are sent as integers; key:int=42 forces an
integer and key:string=42 a string.

The table shows one row per entity: its join keys, then each feature's
value, or "∅ not found" (no value for the entity), "∅ expired" (older than
the view's TTL) or "∅" (a null value). -o json and -o yaml print the
feature store's response.`,
		Example: `  factoryctl features online --service churn_v1 --entity customer_id=c-42
  factoryctl features online --features customer_orders:spend_7d,customer_orders:orders_7d \
    --entity customer_id=c-1 --entity customer_id=c-2
  factoryctl features online --service product_quality_v1 --entities products.csv -o json
  factoryctl features online --features accounts:balance --entity account_id:int=42`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sel.check(); err != nil {
				return err
			}
			switch {
			case len(entities) == 0 && file == "":
				return usageErrorf("name the entities: --entity key=value (repeatable) or --entities FILE.csv")
			case len(entities) > maxOnlineEntities:
				return usageErrorf("%d --entity flags: at most %d entities per read", len(entities), maxOnlineEntities)
			}
			return a.withFeatures(func(cl featurestorev1.FeatureStoreServiceClient) error {
				plan, err := a.resolveFeatures(cmd, cl, sel)
				if err != nil {
					return err
				}
				var (
					rows     []*featurestorev1.EntityRow
					keyNames []string
				)
				if file != "" {
					rows, keyNames, err = readEntityFile(cmd, file, plan.joinKeys)
				} else {
					rows, keyNames, err = entityFlags(entities, plan.keyTypes)
				}
				if err != nil {
					return err
				}
				resp, err := unary(a, cmd, cl.GetOnlineFeatures, &featurestorev1.GetOnlineFeaturesRequest{
					FeatureService: sel.service, Features: sel.features, Entities: rows,
				})
				if err != nil {
					return err
				}
				keys := make([]map[string]*featurestorev1.Value, len(rows))
				for i, r := range rows {
					keys[i] = r.GetJoinKeys()
				}
				return a.print(cmd, resp, func(w io.Writer) error { return output.OnlineTable(w, keyNames, keys, resp) })
			})
		},
	}
	sel = addFeatureSelectionFlags(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&entities, "entity", nil, "an entity's join keys as key=value[,key=value] (repeatable); key:int=42 sends an integer")
	f.StringVar(&file, "entities", "", "CSV file of entity rows (join key columns, at most 1000 rows); - reads stdin")
	cmd.MarkFlagsMutuallyExclusive("entity", "entities")
	return cmd
}

// entityFlags parses the --entity flags; the key names are those of all
// rows in the order they first appear.
func entityFlags(flags []string, types map[string]featurestorev1.ValueType) ([]*featurestorev1.EntityRow, []string, error) {
	rows := make([]*featurestorev1.EntityRow, 0, len(flags))
	var names []string
	for _, s := range flags {
		row, ks, err := parseEntityFlag(s, types)
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, row)
		for _, k := range ks {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	return rows, names, nil
}

// readEntityFile reads the online entity rows of a CSV file or stdin.
func readEntityFile(cmd *cobra.Command, file string, keys []*featurestorev1.JoinKey) ([]*featurestorev1.EntityRow, []string, error) {
	if file == "-" {
		return readOnlineEntities(cmd.InOrStdin(), "stdin", keys)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return readOnlineEntities(f, file, keys)
}
