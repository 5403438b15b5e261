import logging
from logging.config import fileConfig

from flask import current_app

from alembic import context

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Interpret the config file for Python logging.
# This line sets up loggers basically.
# Keep the loggers that exist already (the app's, shop.*): alembic's default would silence them
# for the rest of a process that runs migrations (tests, an app upgrading itself).
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger('alembic.env')


def get_engine():
    return current_app.extensions['migrate'].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace(
            '%', '%%')
    except AttributeError:
        return str(get_engine().url).replace('%', '%%')


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option('sqlalchemy.url', get_engine_url())
target_db = current_app.extensions['migrate'].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def render_item(type_, obj, autogen_context):
    """Write our UTCDateTime as a plain timezone-aware DateTime, so migrations need no app import."""
    from shop.timeutil import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def get_metadata():
    if hasattr(target_db, 'metadatas'):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(
        url=url, target_metadata=get_metadata(), literal_binds=True
    )

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, 'autogenerate', False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info('No changes in schema detected.')

    conf_args = current_app.extensions['migrate'].configure_args
    conf_args.setdefault("render_item", render_item)
    conf_args.setdefault("compare_type", True)
    # The search engine's FTS5 tables and trigram index are made by migration 0005_search, not the models.
    from shop.catalog.search import include_object
    conf_args.setdefault("include_object", include_object)
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()

    with connectable.connect() as connection:
        if connection.dialect.name == "sqlite":
            _run_on_sqlite(connection, conf_args)
            return
        context.configure(
            connection=connection,
            target_metadata=get_metadata(),
            **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()


def _dangling(connection) -> set[tuple]:
    """(table, rowid, referenced table) of every row whose foreign key points at nothing."""
    return {(row[0], row[1], row[2]) for row in connection.exec_driver_sql("PRAGMA foreign_key_check")}


def _run_on_sqlite(connection, conf_args):
    """Migrations on SQLite: foreign keys off while tables are rebuilt, and one transaction.

    Batch migrations rebuild a table (copy, drop, rename). With foreign keys on, dropping a table
    that other rows point at fails ("FOREIGN KEY constraint failed" on ``DROP TABLE producer``):
    SQLite's own procedure for such changes turns them off first and runs ``PRAGMA
    foreign_key_check`` before committing (https://www.sqlite.org/lang_altertable.html, "Making
    Other Kinds Of Table Schema Changes"). The pragma is a no-op inside a transaction, so it is set
    before ours begins. And pysqlite would commit each DDL statement on its own, leaving a failed
    migration half applied (its tables made, its revision not recorded): the driver's own
    transaction handling is turned off and one explicit BEGIN covers the whole run, so a failure
    rolls everything back (SQLite's DDL is transactional). Both settings are restored for the
    pooled connection afterwards.
    """
    driver = connection.connection.driver_connection
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    previous = driver.isolation_level
    driver.isolation_level = None
    try:
        context.configure(connection=connection, target_metadata=get_metadata(), transactional_ddl=True,
                          **conf_args)
        connection.exec_driver_sql("BEGIN")
        try:
            # Rows that already pointed at nothing (written with foreign keys off, long ago) are
            # not the migration's doing: only new ones stop it.
            before = _dangling(connection)
            context.run_migrations()
            broken = sorted(_dangling(connection) - before)
            if broken:
                raise RuntimeError(f"the migration leaves rows pointing at nothing: {broken[:5]}")
        except BaseException:
            connection.exec_driver_sql("ROLLBACK")
            raise
        connection.exec_driver_sql("COMMIT")
    finally:
        driver.isolation_level = previous
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
