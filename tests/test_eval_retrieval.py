"""Retrieval models: the BBC loss trains them to match poses with texts; save/load round-trips."""
import torch

from training.metrics import recall_at_k
from training.retrieval import RetrievalConfig, RetrievalModel, bbc_loss
from training.retrieval.train import RetrievalData, train_retrieval


def _toy(n=64, seed=0):
    """Poses whose text embedding is a fixed random function of one joint's rotation."""
    g = torch.Generator().manual_seed(seed)
    poses = 0.6 * torch.randn(n, 22, 3, generator=g)
    proj = torch.randn(3, 384, generator=torch.Generator().manual_seed(99))
    texts = torch.nn.functional.normalize(poses[:, 18] @ proj, dim=-1)
    return poses, texts


def test_bbc_loss_prefers_matching_pairs():
    x = torch.nn.functional.normalize(torch.randn(8, 16), dim=-1)
    scale = torch.tensor(10.0).log()
    assert bbc_loss(x, x, scale) < bbc_loss(x, x.roll(1, 0), scale)


def test_training_improves_recall_and_save_load(tmp_path):
    torch.manual_seed(0)
    poses, texts = _toy()
    model = RetrievalModel(RetrievalConfig(latent_dim=32, hidden_dim=64, dropout=0.0))

    def recall():
        with torch.no_grad():
            return recall_at_k(model.encode_text_features(texts).numpy(), model.encode_poses(poses).numpy())[5]

    before = recall()
    losses = train_retrieval(model, RetrievalData(poses, [t[None] for t in texts]), epochs=30, batch_size=32, lr=3e-3)
    assert losses[-1] < 0.5 * losses[0]
    assert recall() > max(2 * before, 40)
    model.save_pretrained(tmp_path)
    loaded = RetrievalModel.from_pretrained(tmp_path)
    with torch.no_grad():
        assert torch.equal(loaded.encode_poses(poses), model.eval().encode_poses(poses))


def test_pair_model_shapes_and_order_matters():
    torch.manual_seed(0)
    model = RetrievalModel(RetrievalConfig(kind="pair", latent_dim=16, hidden_dim=32)).eval()
    a, b = torch.randn(4, 22, 3), torch.randn(4, 22, 3)
    with torch.no_grad():
        ab, ba = model.encode_pairs(a, b), model.encode_pairs(b, a)
    assert ab.shape == (4, 16) and torch.allclose(ab.norm(dim=-1), torch.ones(4))
    assert not torch.allclose(ab, ba)


def test_sentence_encoder_is_offline_minilm():
    from training.retrieval import SentenceEncoder
    enc = SentenceEncoder()
    emb = enc.encode(["raise the left arm", "lift your left arm up", "sit on the floor with crossed legs"])
    assert emb.shape == (3, 384)
    sim = (emb @ emb.T).numpy()
    assert sim[0, 1] > sim[0, 2] + 0.1
