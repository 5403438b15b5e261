"""portal: product photos, proposals, the producer's text-edit flag (issue 15)

Revision ID: 0017_portal
Revises: 0016_search_terms
Create Date: 2026-12-01 10:19:08

New tables ``product_photo`` and ``proposal``; ``producer.text_edits_publish`` (off for every
existing producer). The audit history's words it uses (``producer``, ``create``) came with
0016_admin_directory.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_portal'
down_revision = '0016_search_terms'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('product_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_photo_product_id_product')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user.id'], name=op.f('fk_product_photo_uploaded_by_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_photo')),
    sa.UniqueConstraint('path', name=op.f('uq_product_photo_path'))
    )
    with op.batch_alter_table('product_photo', schema=None) as batch_op:
        batch_op.create_index('ix_product_photo_product_position', ['product_id', 'position'], unique=False)

    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('producer_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('before', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('proposed_by', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('superseded_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('price', 'product', 'description', 'story', 'new_product')", name=op.f('ck_proposal_kind_known')),
    sa.CheckConstraint("state IN ('pending', 'approved', 'rejected', 'withdrawn', 'superseded')", name=op.f('ck_proposal_state_known')),
    sa.ForeignKeyConstraint(['decided_by'], ['user.id'], name=op.f('fk_proposal_decided_by_user')),
    sa.ForeignKeyConstraint(['producer_id'], ['producer.id'], name=op.f('fk_proposal_producer_id_producer')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_proposal_product_id_product')),
    sa.ForeignKeyConstraint(['proposed_by'], ['user.id'], name=op.f('fk_proposal_proposed_by_user')),
    sa.ForeignKeyConstraint(['superseded_by'], ['proposal.id'], name=op.f('fk_proposal_superseded_by_proposal')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal'))
    )
    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.create_index('ix_proposal_producer_state', ['producer_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposal_state'), ['state'], unique=False)

    with op.batch_alter_table('producer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_edits_publish', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    with op.batch_alter_table('producer', schema=None) as batch_op:
        batch_op.drop_column('text_edits_publish')

    with op.batch_alter_table('proposal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposal_state'))
        batch_op.drop_index(batch_op.f('ix_proposal_product_id'))
        batch_op.drop_index('ix_proposal_producer_state')

    op.drop_table('proposal')
    with op.batch_alter_table('product_photo', schema=None) as batch_op:
        batch_op.drop_index('ix_product_photo_product_position')

    op.drop_table('product_photo')
