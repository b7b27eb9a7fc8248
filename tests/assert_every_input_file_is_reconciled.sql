-- Control: the reconciliation covers exactly the four input files of the contract.
with

reconciliation as (

    select * from {{ ref('reconciliation_input_files') }}

),

expected as (

    {{ input_files_relation() }}

),

final as (

    select
        coalesce(expected.input_file, reconciliation.input_file) as input_file,
        expected.input_file is null as is_unexpected,
        reconciliation.input_file is null as is_missing

    from expected
    full outer join reconciliation
        on expected.input_file = reconciliation.input_file
    where expected.input_file is null or reconciliation.input_file is null

)

select * from final
