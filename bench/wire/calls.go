package wire

import (
	"context"
)

// Volume is a volume as Get and List describe it.
type Volume struct {
	Name       string
	Mountpoint string
	CreatedAt  string         `json:",omitempty"`
	Status     map[string]any `json:",omitempty"`
}

type nameArgs struct {
	Name string
}

type createArgs struct {
	Name string
	Opts map[string]string
}

type mountArgs struct {
	Name string
	ID   string
}

type mountAnswer struct {
	Mountpoint string
	Err        string
}

func (a *mountAnswer) failure() string { return a.Err }

type getAnswer struct {
	Volume *Volume
	Err    string
}

func (a *getAnswer) failure() string { return a.Err }

type listAnswer struct {
	Volumes []*Volume
	Err     string
}

func (a *listAnswer) failure() string { return a.Err }

// Capabilities asks for the plugin's scope; it is also what the start-up
// probe sends.
func (c *Client) Capabilities(ctx context.Context) error {
	return c.Call(ctx, "Capabilities", struct{}{}, nil)
}

// Create creates volume name; nil opts go out as "Opts":null, as from
// `docker volume create` without -o.
func (c *Client) Create(ctx context.Context, name string, opts map[string]string) error {
	return c.Call(ctx, "Create", createArgs{Name: name, Opts: opts}, nil)
}

// Mount mounts volume name for mount ID id and returns its mountpoint.
func (c *Client) Mount(ctx context.Context, name, id string) (string, error) {
	var ret mountAnswer
	err := c.Call(ctx, "Mount", mountArgs{Name: name, ID: id}, &ret)
	return ret.Mountpoint, err
}

// Unmount releases mount ID id of volume name.
func (c *Client) Unmount(ctx context.Context, name, id string) error {
	return c.Call(ctx, "Unmount", mountArgs{Name: name, ID: id}, nil)
}

// Remove removes volume name.
func (c *Client) Remove(ctx context.Context, name string) error {
	return c.Call(ctx, "Remove", nameArgs{Name: name}, nil)
}

// Get describes volume name.
func (c *Client) Get(ctx context.Context, name string) (*Volume, error) {
	var ret getAnswer
	err := c.Call(ctx, "Get", nameArgs{Name: name}, &ret)
	return ret.Volume, err
}

// List returns how many volumes the plugin lists.
func (c *Client) List(ctx context.Context) (int, error) {
	var ret listAnswer
	err := c.Call(ctx, "List", struct{}{}, &ret)
	return len(ret.Volumes), err
}

// Cycle is what one container start and stop on a new named volume costs a
// plugin, without the daemon's Get and Capabilities calls: Create, Mount,
// Unmount, Remove. id is the mount ID.
func (c *Client) Cycle(ctx context.Context, name, id string) error {
	if err := c.Create(ctx, name, nil); err != nil {
		return err
	}
	if _, err := c.Mount(ctx, name, id); err != nil {
		return err
	}
	if err := c.Unmount(ctx, name, id); err != nil {
		return err
	}
	return c.Remove(ctx, name)
}
