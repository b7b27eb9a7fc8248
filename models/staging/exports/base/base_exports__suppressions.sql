{{ config(materialized=raw_rows_materialization()) }}

with

source_rows as (

    {{ raw_rows('suppressions') }}

),

final as (

    select * from source_rows

)

select * from final
