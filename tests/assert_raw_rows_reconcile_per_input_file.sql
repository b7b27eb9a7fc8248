-- Control: every raw line of every input file is accounted for exactly once.
-- raw_rows is counted where the rows enter (the pre-step's manifest, or the seed table);
-- checked_rows is what the staging model holds; each must split into accepted, rejected and
-- duplicate rows. Returns the files where any of that does not add up.
with

reconciliation as (

    select * from {{ ref('reconciliation_input_files') }}

),

final as (

    select *
    from reconciliation
    where
        raw_rows <> checked_rows
        or checked_rows <> accepted_rows + rejected_rows + duplicate_rows

)

select * from final
