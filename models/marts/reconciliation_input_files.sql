with

input_files as (

    select * from {{ ref('stg_exports__input_files') }}

),

checked_rows as (

    {{ checked_dispositions_relation() }}

),

disposition_counts as (

    select
        input_file,
        count(*) as checked_rows,
        sum(case when disposition = 'accepted' then 1 else 0 end) as accepted_rows,
        sum(case when disposition = 'rejected' then 1 else 0 end) as rejected_rows,
        sum(case when disposition = 'duplicate' then 1 else 0 end) as duplicate_rows

    from checked_rows
    group by input_file

),

final as (

    select
        input_files.input_file,
        input_files.file_path,
        input_files.byte_count,
        input_files.sha256,
        input_files.extra_columns,
        input_files.encoding,
        input_files.delimiter,
        input_files.raw_rows,
        cast(coalesce(disposition_counts.checked_rows, 0) as {{ dbt.type_bigint() }}) as checked_rows,
        cast(coalesce(disposition_counts.accepted_rows, 0) as {{ dbt.type_bigint() }}) as accepted_rows,
        cast(coalesce(disposition_counts.rejected_rows, 0) as {{ dbt.type_bigint() }}) as rejected_rows,
        cast(coalesce(disposition_counts.duplicate_rows, 0) as {{ dbt.type_bigint() }}) as duplicate_rows

    from input_files
    left join disposition_counts
        on input_files.input_file = disposition_counts.input_file

)

select * from final
