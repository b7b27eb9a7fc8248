{{ config(materialized=raw_rows_materialization()) }}

with

source_rows as (

    {{ raw_rows('customers') }}

),

final as (

    select * from source_rows

)

select * from final
