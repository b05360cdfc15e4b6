# vmbot as a Nomad job on the cluster it manages (docs/deploy.md, "Nomad").
#
# Before the first run:
#   1. A host volume for the database, in the client's config on the node that runs vmbot:
#        client { host_volume "vmbot-data" { path = "/srv/vmbot/data" read_only = false } }
#      (owned by uid 10001, the image's vmbot user).
#   2. The secrets, as a Nomad variable only this job can read:
#        nomad var put nomad/jobs/vmbot slack_bot_token=xoxb-... slack_app_token=xapp-... \
#          nomad_token=<ACL token that may submit/stop the VM jobs>
#      (Discord: discord_token=...; read-only console: web_token=...; then uncomment their blocks.)
#   3. nomad job run -var image=registry.example.org/vmbot:0.1.0 deploy/nomad/vmbot.nomad.hcl

variable "image" {
  type        = string
  description = "The vmbot image (docker build -t ... . from the repository root)"
  default     = "vmbot:0.1.0"
}

variable "datacenters" {
  type    = list(string)
  default = ["dc1"]
}

job "vmbot" {
  datacenters = var.datacenters
  type        = "service"

  group "vmbot" {
    # One instance: the SQLite database and the MAC pool have a single writer.
    count = 1

    volume "vmbot-data" {
      type      = "host"
      source    = "vmbot-data"
      read_only = false
    }

    network {
      # The VMs fetch their cloud-init files here (cloudInit.builtin.publicUrl).
      port "nocloud" {
        static = 8000
      }
      # Read-only web console and /metrics (web.enabled: true).
      port "web" {
        static = 8080
      }
    }

    service {
      name     = "vmbot"
      port     = "web"
      provider = "nomad"
    }

    restart {
      attempts = 3
      interval = "10m"
      delay    = "15s"
      mode     = "delay"
    }

    task "vmbot" {
      driver = "docker"

      config {
        image = var.image
        ports = ["nocloud", "web"]
      }

      volume_mount {
        volume      = "vmbot-data"
        destination = "/app/data"
        read_only   = false
      }

      # Secrets: rendered from the Nomad variable into files under /secrets (a tmpfs only this
      # task sees); vmbot reads each through its *_FILE variable, never from the environment.
      template {
        data        = "{{ with nomadVar \"nomad/jobs/vmbot\" }}{{ .slack_bot_token }}{{ end }}"
        destination = "secrets/slack_bot_token"
        perms       = "0400"
        change_mode = "restart"
      }

      template {
        data        = "{{ with nomadVar \"nomad/jobs/vmbot\" }}{{ .slack_app_token }}{{ end }}"
        destination = "secrets/slack_app_token"
        perms       = "0400"
        change_mode = "restart"
      }

      template {
        data        = "{{ with nomadVar \"nomad/jobs/vmbot\" }}{{ .nomad_token }}{{ end }}"
        destination = "secrets/nomad_token"
        perms       = "0400"
        change_mode = "restart"
      }

      # Discord (uncomment with DISCORD_TOKEN_FILE below):
      # template {
      #   data        = "{{ with nomadVar \"nomad/jobs/vmbot\" }}{{ .discord_token }}{{ end }}"
      #   destination = "secrets/discord_token"
      #   perms       = "0400"
      #   change_mode = "restart"
      # }

      # The configuration file. Addresses come from Nomad's runtime environment; edit the rest.
      template {
        destination = "local/vmbot.config.yaml"
        change_mode = "restart"
        data        = <<-EOT
          database: { path: data/vmbot.sqlite }
          macPool:
            ranges: ["52:54:84:ba:49:00-52:54:84:ba:49:ff"]
            reserved:
              - { mac: "52:54:84:ba:49:01", note: distro-vm }
          nomad:
            adapter: http
            datacenters: ["aperture"]
            http:
              address: "http://{{ env "attr.unique.network.ip-address" }}:4646"
          cloudInit:
            publish: builtin
            builtin:
              listen: "0.0.0.0:8000"
              publicUrl: "http://{{ env "NOMAD_IP_nocloud" }}:{{ env "NOMAD_HOST_PORT_nocloud" }}"
              dir: data/nocloud
          slack:
            mode: socket
            adminChannel: C0123456789
            admins: []
          web:
            enabled: false
            listen: "0.0.0.0:8080"
          EOT
      }

      env {
        VMBOT_CONFIG           = "/local/vmbot.config.yaml"
        SLACK_BOT_TOKEN_FILE   = "/secrets/slack_bot_token"
        SLACK_APP_TOKEN_FILE   = "/secrets/slack_app_token"
        NOMAD_TOKEN_FILE       = "/secrets/nomad_token"
        # DISCORD_TOKEN_FILE   = "/secrets/discord_token"
      }

      resources {
        cpu    = 300
        memory = 256
      }

      # Let vmbot finish in-flight work (it resumes the rest at the next start).
      kill_timeout = "20s"
    }
  }
}
