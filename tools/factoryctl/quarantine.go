package main

import (
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	ingestionv1 "github.com/aifactory/aifactory/proto/gen/go/aifactory/ingestion/v1"

	"github.com/aifactory/aifactory/tools/factoryctl/internal/output"
)

func newQuarantineCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "quarantine",
		Short: "Inspect and replay records that failed their data contract",
		Example: `  factoryctl quarantine list sales/orders
  factoryctl quarantine show sales/orders 42
  factoryctl quarantine replay sales/orders --dry-run`,
		Args: noArgs,
		RunE: groupRunE,
	}
	cmd.AddCommand(newQuarantineListCmd(a), newQuarantineShowCmd(a), newQuarantineReplayCmd(a))
	return cmd
}

func newQuarantineListCmd(a *app) *cobra.Command {
	var (
		all   bool
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list DOMAIN/NAME",
		Short: "List a data product's quarantined records, oldest first",
		Example: `  factoryctl quarantine list sales/orders
  factoryctl quarantine list sales/orders --all --limit 20 -o yaml`,
		Args: exactArgs("DOMAIN/NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			return a.withIngestion(func(cl ingestionv1.IngestionServiceClient) error {
				rs, err := paging(limit, func(size int32, token string) ([]*ingestionv1.QuarantinedRecord, string, error) {
					resp, err := unary(a, cmd, cl.ListQuarantine, &ingestionv1.ListQuarantineRequest{
						Domain: r.Domain, Product: r.Name, PageSize: size, PageToken: token, IncludeReplayed: all,
					})
					return resp.GetRecords(), resp.GetNextPageToken(), err
				})
				if err != nil {
					return err
				}
				return a.print(cmd, &ingestionv1.ListQuarantineResponse{Records: rs}, func(w io.Writer) error {
					return output.QuarantineTable(w, rs)
				})
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include records already replayed")
	addLimitFlag(cmd, &limit)
	return cmd
}

// seqArg parses a quarantine sequence number, as a usage error.
func seqArg(s string) (uint64, error) {
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, usageErrorf("invalid sequence %q: want a positive number, as 'factoryctl quarantine list' shows in SEQ", s)
	}
	return n, nil
}

func newQuarantineShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show DOMAIN/NAME SEQ",
		Short: "Show a quarantined record with all its violations",
		Example: `  factoryctl quarantine show sales/orders 42
  factoryctl quarantine show sales/orders 42 -o json`,
		Args: exactArgs("DOMAIN/NAME", "SEQ"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			seq, err := seqArg(args[1])
			if err != nil {
				return err
			}
			return a.withIngestion(func(cl ingestionv1.IngestionServiceClient) error {
				resp, err := unary(a, cmd, cl.GetQuarantined, &ingestionv1.GetQuarantinedRequest{Domain: r.Domain, Product: r.Name, Sequence: seq})
				if err != nil {
					return err
				}
				return a.print(cmd, resp.GetRecord(), func(w io.Writer) error {
					return output.QuarantinedDetail(w, resp.GetRecord())
				})
			})
		},
	}
}

func newQuarantineReplayCmd(a *app) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "replay DOMAIN/NAME [SEQ...]",
		Short: "Validate quarantined records again and store those that now pass",
		Long: `Validate quarantined records again against the product's current contract
and move those that pass to the data subject, exactly once. Without SEQ,
every record not yet replayed is tried. With --dry-run nothing is stored:
the results say what would happen.

Records that still fail are not an error: the command exits 0 and the
summary counts them.`,
		Example: `  factoryctl quarantine replay sales/orders --dry-run
  factoryctl quarantine replay sales/orders 42 43`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s needs DOMAIN/NAME", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := productArg(args[0])
			if err != nil {
				return err
			}
			req := &ingestionv1.ReplayQuarantineRequest{Domain: r.Domain, Product: r.Name, DryRun: dryRun}
			for _, s := range args[1:] {
				seq, err := seqArg(s)
				if err != nil {
					return err
				}
				req.Sequences = append(req.Sequences, seq)
			}
			return a.withIngestion(func(cl ingestionv1.IngestionServiceClient) error {
				resp, err := unary(a, cmd, cl.ReplayQuarantine, req)
				if err != nil {
					return err
				}
				return a.print(cmd, resp, func(w io.Writer) error {
					if len(resp.GetResults()) == 0 {
						_, err := fmt.Fprintln(w, "Nothing to replay: no quarantined record awaits replay.")
						return err
					}
					if err := output.ReplayTable(w, resp.GetResults()); err != nil {
						return err
					}
					_, err := fmt.Fprintf(w, "\n%s\n", output.ReplaySummary(resp, dryRun))
					return err
				})
			})
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only report what would pass; store nothing")
	return cmd
}
