-- When the audience suddenly shrinks, start here: how many rows each input file had, and how
-- many survive each layer. A drop between two runs shows the layer where rows went missing.
-- Run: dbt compile --select raw_counts_per_layer, then run the compiled SQL
-- (target/compiled/audience/analyses/raw_counts_per_layer.sql) in DuckDB.
with

reconciliation as (

    select * from {{ ref('reconciliation_input_files') }}

),

customers as (

    select * from {{ ref('int_customers_deduplicated') }}

),

decisions as (

    select * from {{ ref('customer_audience_decisions') }}

),

audience as (

    select * from {{ ref('eligible_audience') }}

),

file_layers as (

    select
        input_file as subject,
        'raw rows in file' as layer,
        1 as layer_order,
        raw_rows as row_count
    from reconciliation
    union all
    select
        input_file as subject,
        'accepted rows' as layer,
        2 as layer_order,
        accepted_rows as row_count
    from reconciliation
    union all
    select
        input_file as subject,
        'rejected rows' as layer,
        3 as layer_order,
        rejected_rows as row_count
    from reconciliation
    union all
    select
        input_file as subject,
        'duplicate rows' as layer,
        4 as layer_order,
        duplicate_rows as row_count
    from reconciliation

),

customer_layers as (

    select
        'customers' as subject,
        'customers with a current snapshot' as layer,
        5 as layer_order,
        count(*) as row_count
    from customers
    where has_current_snapshot
    union all
    select
        'customers' as subject,
        'customers decided' as layer,
        6 as layer_order,
        count(*) as row_count
    from decisions
    union all
    select
        'customers' as subject,
        'published audience' as layer,
        7 as layer_order,
        count(*) as row_count
    from audience

),

final as (

    select * from file_layers
    union all
    select * from customer_layers

)

select * from final
order by subject, layer_order
