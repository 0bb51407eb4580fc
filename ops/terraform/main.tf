resource "digitalocean_vpc" "swarm" {
  name     = "${var.name}-vpc"
  region   = var.region
  ip_range = var.vpc_ip_range
}

# Node 1 becomes the Swarm manager (and holds the stateful services); nodes 2
# and 3 join as workers. See ops/README.md, "Deploying".
resource "digitalocean_droplet" "node" {
  count = 3

  name       = "${var.name}-${count.index + 1}"
  region     = var.region
  size       = var.node_size
  image      = var.node_image
  vpc_uuid   = digitalocean_vpc.swarm.id
  ssh_keys   = var.ssh_key_fingerprints
  monitoring = true
  tags       = ["${var.name}-swarm"]

  user_data = templatefile("${path.module}/cloud-init.yml", {
    daemon_json = file("${path.module}/../logging/daemon.json")
  })

  lifecycle {
    # A changed cloud-init must not replace a running node.
    ignore_changes = [user_data]
  }
}

# A stable public address for the manager, where DNS points.
resource "digitalocean_reserved_ip" "manager" {
  region     = var.region
  droplet_id = digitalocean_droplet.node[0].id
}

resource "digitalocean_firewall" "swarm" {
  name        = "${var.name}-swarm"
  droplet_ids = digitalocean_droplet.node[*].id

  # SSH only from the allow-list.
  inbound_rule {
    protocol         = "tcp"
    port_range       = "22"
    source_addresses = var.ssh_allowed_cidrs
  }

  # The TLS proxy: HTTP (redirects to HTTPS), HTTPS, and HTTP/3.
  inbound_rule {
    protocol         = "tcp"
    port_range       = "80"
    source_addresses = ["0.0.0.0/0", "::/0"]
  }

  inbound_rule {
    protocol         = "tcp"
    port_range       = "443"
    source_addresses = ["0.0.0.0/0", "::/0"]
  }

  inbound_rule {
    protocol         = "udp"
    port_range       = "443"
    source_addresses = ["0.0.0.0/0", "::/0"]
  }

  # Swarm, only inside the VPC: cluster management, node gossip, overlay traffic.
  inbound_rule {
    protocol         = "tcp"
    port_range       = "2377"
    source_addresses = [digitalocean_vpc.swarm.ip_range]
  }

  inbound_rule {
    protocol         = "tcp"
    port_range       = "7946"
    source_addresses = [digitalocean_vpc.swarm.ip_range]
  }

  inbound_rule {
    protocol         = "udp"
    port_range       = "7946"
    source_addresses = [digitalocean_vpc.swarm.ip_range]
  }

  inbound_rule {
    protocol         = "udp"
    port_range       = "4789"
    source_addresses = [digitalocean_vpc.swarm.ip_range]
  }

  inbound_rule {
    protocol         = "icmp"
    source_addresses = ["0.0.0.0/0", "::/0"]
  }

  # Out: anything (image pulls, Let's Encrypt, Spaces, SMTP).
  outbound_rule {
    protocol              = "tcp"
    port_range            = "1-65535"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }

  outbound_rule {
    protocol              = "udp"
    port_range            = "1-65535"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }

  outbound_rule {
    protocol              = "icmp"
    destination_addresses = ["0.0.0.0/0", "::/0"]
  }
}

resource "digitalocean_spaces_bucket" "backups" {
  name   = var.backup_bucket
  region = var.region
  acl    = "private"

  versioning {
    enabled = false
  }

  # A safety net behind `minitwit backup --keep-days`, which never deletes
  # the newest complete backup: this rule cannot tell which one that is, so
  # it must expire only what retention would long have deleted. Keep
  # backup_expiry_days well above --keep-days plus the longest time the
  # backup service may be down, or a stalled service ends with no backup.
  # Only the logical backups (BACKUP_PREFIX "minitwit"). pgBackRest's
  # repository under pgbackrest/ expires its own files, and keeps some for
  # good: archive.info is written once, when the stanza is created, and
  # deleting it would stop WAL archiving.
  lifecycle_rule {
    id      = "expire-old-backups"
    enabled = true
    prefix  = "minitwit/"

    expiration {
      days = var.backup_expiry_days
    }
  }

  # A backup killed mid-upload leaves an incomplete multipart upload that no
  # listing shows but the bucket stores (and bills); abort those after a day.
  lifecycle_rule {
    id                                     = "abort-incomplete-uploads"
    enabled                                = true
    abort_incomplete_multipart_upload_days = 1
  }
}
