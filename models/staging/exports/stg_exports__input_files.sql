with

manifest as (

    {{ input_file_manifest_relation() }}

),

final as (

    select
        input_file,
        file_path,
        byte_count,
        sha256,
        extra_columns,
        encoding,
        delimiter,
        cast(data_lines as {{ dbt.type_bigint() }}) as raw_rows

    from manifest

)

select * from final
