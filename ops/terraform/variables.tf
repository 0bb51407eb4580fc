variable "region" {
  description = "DigitalOcean region for the nodes, the VPC and the bucket."
  type        = string
  default     = "fra1"
}

variable "name" {
  description = "Prefix of every resource's name."
  type        = string
  default     = "minitwit"
}

variable "node_size" {
  description = "Droplet size of each Swarm node (2 vCPUs and 4 GB suit the stack's limits)."
  type        = string
  default     = "s-2vcpu-4gb"
}

variable "node_image" {
  description = "Droplet image; cloud-init installs Docker on it."
  type        = string
  default     = "ubuntu-24-04-x64"
}

variable "vpc_ip_range" {
  description = "Private address range of the VPC; Swarm's own traffic stays inside it."
  type        = string
  default     = "10.110.0.0/20"
}

variable "ssh_key_fingerprints" {
  description = "Fingerprints of SSH keys already added to the DigitalOcean account, installed for root."
  type        = list(string)
}

variable "ssh_allowed_cidrs" {
  description = "The only addresses allowed to reach SSH (port 22): the operators' and the deploy runner's."
  type        = list(string)

  validation {
    condition     = length(var.ssh_allowed_cidrs) > 0 && !contains(var.ssh_allowed_cidrs, "0.0.0.0/0") && !contains(var.ssh_allowed_cidrs, "::/0")
    error_message = "List the addresses allowed to use SSH; the whole internet is not an allow-list."
  }
}

variable "backup_bucket" {
  description = "Name of the Spaces bucket for backups (globally unique)."
  type        = string
}

variable "backup_expiry_days" {
  description = "Spaces deletes logical backups (under minitwit/) older than this, a safety net behind `minitwit backup --keep-days 14`; it cannot spare the newest backup, so keep it well above --keep-days; pgBackRest's files are left alone."
  type        = number
  default     = 30

  validation {
    condition     = var.backup_expiry_days >= 21
    error_message = "Expire backups no sooner than a week after `--keep-days 14` would: the bucket rule cannot tell the newest backup apart and would delete it after an outage of the backup service."
  }
}
