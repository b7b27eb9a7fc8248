-- Control: every line the reconciliation counts as rejected or duplicate is in the quarantine
-- published for its file (`rejected_<input file>`), and nothing else is: a line not accepted is
-- never dropped on its way to the rejected file. Returns the files whose counts differ.
with

reconciliation as (

    select * from {{ ref('reconciliation_input_files') }}

),

quarantined_counts as (

    {{ quarantined_counts_relation() }}

),

final as (

    select
        reconciliation.input_file,
        reconciliation.rejected_rows + reconciliation.duplicate_rows as not_accepted_rows,
        coalesce(quarantined_counts.quarantined_rows, 0) as quarantined_rows

    from reconciliation
    left join quarantined_counts
        on reconciliation.input_file = quarantined_counts.input_file
    where
        reconciliation.rejected_rows + reconciliation.duplicate_rows
        <> coalesce(quarantined_counts.quarantined_rows, 0)

)

select * from final
